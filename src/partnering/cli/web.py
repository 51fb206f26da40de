"""Web commands: ``partnering serve`` and the ``partnering users`` group (accounts and API tokens)."""

from __future__ import annotations

import errno
import socket
from typing import Optional

import typer

from partnering.cli.common import console, engine, print_frame, state
from partnering.errors import ConfigError

users = typer.Typer(help="Manage the web app's users and API tokens.", no_args_is_help=True)


def ensure_port_free(host: str, port: int) -> None:
    """Refuse, in one line naming ``--port``, to serve on a port another program already listens on (checked
    before anything is loaded; uvicorn would otherwise stop with a traceback-like log after start-up)."""
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"cannot serve on {host!r}: not an address of this machine ({exc})") from None
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is already in use (is Partnering already running?): "
                                  f"serve on another with --port, e.g. --port {port + 1 if port < 65535 else 8001}"
                                  ) from None
            raise ConfigError(f"cannot serve on {host} port {port}: {exc.strerror}; choose another with --port"
                              ) from None


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to serve on (0.0.0.0 for every interface)."),
        port: int = typer.Option(8000, help="Port to serve on."),
        secure_cookies: Optional[bool] = typer.Option(
            None, "--secure-cookies/--no-secure-cookies",
            help="Mark the session cookie Secure (HTTPS only). Default: on, except on 127.0.0.1/localhost."),
        workers: int = typer.Option(1, min=1, max=64, help="Server processes. Each keeps its own result cache."),
    ) -> None:
        """Serve the web app and the REST API (/api/v1). Creates an admin user on first run and prints it."""
        from partnering.web.serve import serve as run

        ensure_port_free(host, port)
        run(host=host, port=port, db=state.db, secure_cookies=secure_cookies, workers=workers)

    app.add_typer(users, name="users")


@users.command("create")
def create(
    email: str = typer.Argument(..., help="Email address (the sign-in name)."),
    role: str = typer.Option("viewer", "--role", help="viewer | analyst | admin"),
    org: Optional[str] = typer.Option(None, "--org", help="Organisation code (scopes unpublished uploads)."),
    password: Optional[str] = typer.Option(None, "--password", help="Password (default: prompt; empty = generate)."),
    name: Optional[str] = typer.Option(None, "--name", help="Display name."),
) -> None:
    """Create a user. Without --password you are asked for one; leave it empty to generate one."""
    from partnering.web.auth import create_user

    if password is None:
        password = typer.prompt("Password (empty to generate)", default="", hide_input=True,
                                show_default=False) or None
    user, pw = create_user(engine(), email, role, org, password or None, name=name, actor="cli")
    console.print(f"Created {user.email} ({user.role}{', ' + user.org_code if user.org_code else ''}).")
    if not password:
        console.print(f"Password: {pw}  (shown once)")


@users.command("list")
def list_users() -> None:
    """List users with role, organisation and whether they are active."""
    from partnering.web.auth import users_frame

    df = users_frame(engine())
    print_frame(df[["email", "name", "role", "org_code", "active"]] if not df.empty else df, f"{len(df)} users", 500)


@users.command("token")
def token(
    email: str = typer.Argument(..., help="Whose token."),
    label: str = typer.Option("script", help="What the token is for."),
) -> None:
    """Create an API token for a user and print it once (send it as Authorization: Bearer <token>)."""
    from partnering.web.auth import create_token

    console.print(create_token(engine(), email, label, actor="cli"), highlight=False, soft_wrap=True)


@users.command("set-password")
def set_password(
    email: str = typer.Argument(...),
    password: Optional[str] = typer.Option(None, "--password", help="New password (default: prompt)."),
) -> None:
    """Change a user's password."""
    from partnering.web.auth import set_user

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    set_user(engine(), email, "cli", password=password)
    console.print(f"Password changed for {email}.")


@users.command("set")
def set_role(
    email: str = typer.Argument(...),
    role: Optional[str] = typer.Option(None, "--role"),
    org: Optional[str] = typer.Option(None, "--org", help="Organisation code ('' to clear)."),
    active: Optional[bool] = typer.Option(None, "--active/--inactive"),
) -> None:
    """Change a user's role, organisation or whether they may sign in."""
    from partnering.web.auth import set_user

    set_user(engine(), email, "cli", role=role, org_code=org, active=active)
    console.print(f"Updated {email}.")
