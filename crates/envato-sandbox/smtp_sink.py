"""A real SMTP server for the e-mail tests (aiosmtpd): AUTH PLAIN/LOGIN without TLS (this
machine only), one user, every message written to a folder as NNNN.eml with the envelope's
recipients in an X-Rcpt header. Usage: smtp_sink.py PORT FOLDER USER PASSWORD"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, folder, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Sink:
    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(folder) if f.endswith(".eml")])
        tmp = os.path.join(folder, f"{n:04}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(b"X-Mail-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(folder, f"{n:04}.eml"))
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)


controller = Controller(
    Sink(), hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
)
controller.start()
print(f"listening {port}", flush=True)
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
