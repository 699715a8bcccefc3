import { SMTP_SECURITY_CHOICES } from "../options";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, type IpcError } from "../ipc";
import { keys } from "../queryKeys";
import { SettingsForm, type FieldDef } from "./SettingsForm";
import { DeliveryLog } from "./DeliveryLog";

const FIELDS: FieldDef[] = [
  { key: "smtp_host", label: "SMTP server", kind: "text", placeholder: "smtp.example.com",
    help: "Your mail provider's SMTP host. Leave empty to send no e-mail." },
  { key: "smtp_port", label: "Port", kind: "number", min: 1, max: 65535,
    help: "465 for TLS, 587 for STARTTLS." },
  { key: "smtp_security", label: "Security", kind: "select",
    options: SMTP_SECURITY_CHOICES,
    help: "How the connection is encrypted. “None” is refused for any server but this computer." },
  { key: "smtp_username", label: "User name", kind: "text", placeholder: "store@example.com",
    help: "Leave empty if the server needs no login. The password is kept in the system keychain, below." },
  { key: "smtp_from", label: "From", kind: "text", placeholder: "Acme Themes <store@example.com>",
    help: "The sender buyers see: a name and address, or just an address." },
  { key: "notify_buyers", label: "Tell buyers about status changes", kind: "toggle",
    help: "E-mail buyers (who have an e-mail on their license) when their license is suspended, revoked or reactivated." },
];

/** Settings > Email: SMTP, the password in the keychain, a test e-mail, and the e-mail log. */
export function EmailTab() {
  const queryClient = useQueryClient();
  const stored = useQuery({ queryKey: keys.emailPasswordSet, queryFn: ipc.emailPasswordSet });
  const [password, setPassword] = useState("");
  const [to, setTo] = useState("");
  const savePassword = useMutation({
    mutationFn: () => ipc.emailSetPassword(password),
    onSuccess: (isSet) => { setPassword(""); queryClient.setQueryData(keys.emailPasswordSet, isSet); },
  });
  const test = useMutation({ mutationFn: () => ipc.emailSendTest(to.trim() || null) });
  return (
    <div className="email-tab">
      <SettingsForm fields={FIELDS} />
      <form className="settings-form" noValidate onSubmit={(e) => { e.preventDefault(); savePassword.mutate(); }}>
        <div className="field">
          <label htmlFor="smtp-password" className="field-label">SMTP password</label>
          <input id="smtp-password" data-testid="smtp-password" type="password" autoComplete="off" value={password}
            placeholder={stored.data ? "Stored in the keychain (type to replace)" : "Not stored"} onChange={(e) => setPassword(e.target.value)} />
          <p className="help">Kept in the system keychain, never in the database or the logs. Save an empty field to remove it.</p>
        </div>
        {savePassword.isError && <div className="banner error" role="alert">{(savePassword.error as IpcError).message}</div>}
        <div className="form-actions">
          <button type="submit" className="secondary" data-testid="smtp-password-save" disabled={savePassword.isPending}>Save password</button>
          {savePassword.isSuccess && <span className="saved" role="status" data-testid="smtp-password-saved">{savePassword.data ? "Password stored" : "Password removed"}</span>}
        </div>
      </form>
      <form className="settings-form" noValidate onSubmit={(e) => { e.preventDefault(); test.mutate(); }}>
        <div className={test.isError && (test.error as IpcError).field === "to" ? "field has-error" : "field"}>
          <label htmlFor="email-test-to" className="field-label">Send a test e-mail to</label>
          <input id="email-test-to" data-testid="email-test-to" type="email" value={to} placeholder="Your From address" onChange={(e) => setTo(e.target.value)} />
          <p className="help">Uses the saved settings: save them first.</p>
        </div>
        <div className="form-actions">
          <button type="submit" className="secondary" data-testid="email-test-send" disabled={test.isPending}>{test.isPending ? "Sending…" : "Send test e-mail"}</button>
        </div>
        {test.isSuccess && <div className="banner ok" role="status" data-testid="email-test-result">Sent to {test.data}.</div>}
        {test.isError && <div className="banner error" role="alert" data-testid="email-test-error">{(test.error as IpcError).message}</div>}
      </form>
      <h3>E-mail log</h3>
      <DeliveryLog channel="email" />
    </div>
  );
}
