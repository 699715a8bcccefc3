import { createContext, useContext, useEffect, useState } from "react";

/** Where a form says it has unsaved edits (the Settings page listens; elsewhere nobody does). */
export const DirtyContext = createContext<(dirty: boolean) => void>(() => {});
import { keys } from "../queryKeys";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError, type SettingKey } from "../ipc";
import type { Settings } from "../bindings/Settings";

export type FieldDef =
  | { key: SettingKey; label: string; help: string; kind: "number"; min: number; max: number; suffix?: string }
  | { key: SettingKey; label: string; help: string; kind: "text"; placeholder?: string }
  | { key: SettingKey; label: string; help: string; kind: "select"; options: { value: string; label: string }[] }
  | { key: SettingKey; label: string; help: string; kind: "toggle" };

type Draft = Partial<Record<SettingKey, string>>;

function toDraft(settings: Settings, fields: FieldDef[]): Draft {
  const d: Draft = {};
  for (const f of fields) d[f.key] = String(settings[f.key]);
  return d;
}

/** A settings tab: its fields, inline errors from Rust's validation, and Save Settings. */
export function SettingsForm({ fields, children, onSaved }: { fields: FieldDef[]; children?: React.ReactNode; onSaved?: () => void }) {
  const reportDirty = useContext(DirtyContext);
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: keys.settings, queryFn: ipc.settingsGet });
  const [draft, setDraft] = useState<Draft>({});
  const [errors, setErrors] = useState<Partial<Record<SettingKey, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  // Re-seeded when the stored settings change (and only then), in the same render, so a field
  // never shows empty before its value arrives.
  const [seededFrom, setSeededFrom] = useState<typeof settings.data>(undefined);
  if (settings.data !== seededFrom) {
    setSeededFrom(settings.data);
    if (settings.data) setDraft(toDraft(settings.data, fields));
  }

  const save = useMutation({
    mutationFn: (changes: Draft) => ipc.settingsUpdate(changes),
    onSuccess: (next) => {
      queryClient.setQueryData(keys.settings, next);
      setErrors({});
      setFormError(null);
      setSaved(true);
      onSaved?.();
    },
    onError: (e: IpcError) => {
      setSaved(false);
      if ((e.code === "settings.invalid_value" || e.code === "settings.unknown_key") && e.field) {
        setErrors({ [e.field as SettingKey]: e.message });
        setFormError(null);
      } else {
        setFormError(e.message);
      }
    },
  });

  // Tell the page whether there are edits not saved yet (it warns before a tab switch drops them).
  const dirty = !!settings.data && fields.some((f) => draft[f.key] !== undefined && draft[f.key] !== String(settings.data[f.key]));
  useEffect(() => {
    reportDirty(dirty);
    return () => reportDirty(false);
  }, [dirty, reportDirty]);

  if (settings.isPending) return <p className="muted">Loading settings…</p>;
  if (settings.isError) return <div className="banner error" role="alert">{settings.error.message}</div>;

  const update = (key: SettingKey, value: string) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
    setSaved(false);
  };

  return (
    <form
      className="settings-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(draft);
      }}
    >
      {fields.map((f) => (
        // Until the draft is seeded from the stored settings (an effect, one render later), show
        // the stored value, so a field never flashes empty.
        <Field key={f.key} def={f} value={draft[f.key] ?? String(settings.data[f.key])} error={errors[f.key]} onChange={(v) => update(f.key, v)} />
      ))}
      {children}
      {formError && <div className="banner error" role="alert" data-testid="form-error">{formError}</div>}
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="save-settings" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save Settings"}
        </button>
        {saved && <span className="saved" role="status" data-testid="saved">Saved</span>}
      </div>
    </form>
  );
}

function Field({ def, value, error, onChange }: { def: FieldDef; value: string; error?: string; onChange: (v: string) => void }) {
  const id = `setting-${def.key}`;
  const describedBy = `${id}-help${error ? ` ${id}-error` : ""}`;
  let control: React.ReactNode;
  switch (def.kind) {
    case "number":
      control = (
        <div className="with-suffix">
          <input id={id} data-testid={id} type="text" inputMode="numeric" value={value} aria-invalid={!!error}
            aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)} />
          {def.suffix && <span className="suffix">{def.suffix}</span>}
        </div>
      );
      break;
    case "text":
      control = (
        <input id={id} data-testid={id} type="text" value={value} placeholder={def.placeholder} aria-invalid={!!error}
          aria-describedby={describedBy} spellCheck={false} onChange={(e) => onChange(e.target.value)} />
      );
      break;
    case "select":
      control = (
        <select id={id} data-testid={id} value={value} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
          {def.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
        </select>
      );
      break;
    case "toggle":
      control = (
        <label className="toggle">
          <input id={id} data-testid={id} type="checkbox" role="switch" checked={value === "true"}
            aria-describedby={describedBy} onChange={(e) => onChange(String(e.target.checked))} />
          <span className="track" aria-hidden />
          <span>{value === "true" ? "On" : "Off"}</span>
        </label>
      );
      break;
  }
  return (
    <div className={error ? "field has-error" : "field"}>
      <label htmlFor={id} className="field-label">{def.label}</label>
      {control}
      <p id={`${id}-help`} className="help">{def.help}</p>
      {error && <p id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>{error}</p>}
    </div>
  );
}
