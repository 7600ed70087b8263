"""Who is working at the station: an inline sign-in bar (never a modal dialog over the line).

Once accounts exist, teaching, reports and exports need a signed-in user (the facade checks
``facade.require``); inspecting never does. Ctrl+I opens the bar (or signs out); the user's
name is then recorded with what the station does.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from ui.panels import esc
from ui.workers import Task, TaskRunner


class SignInBar(QWidget):
    """Shows the signed-in user; name + password fields appear inline to sign in."""

    status = Signal(str)
    user_changed = Signal(object)  # domain.User or None

    def __init__(self, facade, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        self.who = QLabel("")
        self.user = QLineEdit()
        self.user.setPlaceholderText("user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password, Enter")
        self.password.returnPressed.connect(self.submit)
        self.user.returnPressed.connect(self.password.setFocus)
        self.button = QPushButton("Sign in  [Ctrl+I]")
        self.button.clicked.connect(self.toggle)
        for w in (self.who, self.user, self.password, self.button):
            lay.addWidget(w)
        self._show_fields(False)
        self.refresh()

    def _show_fields(self, on: bool) -> None:
        self.user.setVisible(on)
        self.password.setVisible(on)

    def refresh(self) -> None:
        u = self.facade.user
        if u is None:
            self.who.setText(f"<i>{esc(self.facade.actor)}</i> (not signed in)")
            self.button.setText("Sign in  [Ctrl+I]")
        else:
            self.who.setText(f"signed in: <b>{esc(u.full_name)}</b> ({esc(u.role.value)})")
            self.button.setText("Sign out  [Ctrl+I]")

    @Slot()
    def toggle(self) -> None:
        if self.facade.user is not None:
            self.facade.sign_out()
            self.refresh()
            self.status.emit("signed out")
            self.user_changed.emit(None)
            return
        if self.user.isVisible() and self.user.text().strip() and self.password.text():
            self.submit()
            return
        self._show_fields(True)
        self.user.setFocus()

    @Slot()
    def submit(self) -> Task | None:
        name, password = self.user.text().strip(), self.password.text()
        self.password.clear()  # never kept in the widget
        if not name or not password:
            self.status.emit("enter your user name and password to sign in")
            return None
        facade = self.facade
        task = Task(lambda t: facade.sign_in(name, password), "sign in")
        task.signals.result.connect(self.on_signed_in)
        task.signals.error.connect(self.on_error)
        return self.tasks.start("sign-in", task)

    @Slot(object)
    def on_signed_in(self, user) -> None:
        self._show_fields(False)
        self.refresh()
        self.status.emit(f"signed in as {user.username} ({user.role.value})")
        self.user_changed.emit(user)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.status.emit(message)
        self.password.setFocus()
