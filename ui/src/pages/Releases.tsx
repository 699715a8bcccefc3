import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ipc, IpcError } from "../ipc";
import { useTauriEvent } from "../hooks/useTauriEvent";
import { keys } from "../queryKeys";
import { CopyButton } from "../components/CopyButton";
import { Choices } from "../components/Choices";
import { RELEASE_CHANNEL_CHOICES, UPDATE_KIND_CHOICES, UPDATE_KIND_LABELS } from "../options";
import type { Product } from "../bindings/Product";
import type { Release } from "../bindings/Release";
import type { ReleaseChannel } from "../bindings/ReleaseChannel";
import type { UpdateKind } from "../bindings/UpdateKind";
import type { Added } from "../bindings/Added";


/** A product's releases (updates-api.md): its update settings, a zip dropped or chosen, what was
 * read from it, publishing with a rollout, yanking, re-releasing, and the code for the product. */
export function Releases({ product }: { product: Product }) {
  const queryClient = useQueryClient();
  const releases = useQuery({ queryKey: keys.releases(product.id), queryFn: () => ipc.releasesList(product.id) });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.releases(product.id) });
    void queryClient.invalidateQueries({ queryKey: keys.productUpdates(product.id) });
    void queryClient.invalidateQueries({ queryKey: keys.snippet(product.id) });
  };
  const [added, setAdded] = useState<Added | null>(null);
  return (
    <div className="releases" data-testid="releases">
      <UpdateSettings product={product} onSaved={refresh} />
      <AddZip product={product} onAdded={(a) => { setAdded(a); refresh(); }} />
      {added && <ReadFromZip added={added} onDone={() => { setAdded(null); refresh(); }} />}
      {releases.isError && <div className="banner error" role="alert">{releases.error.message}</div>}
      {releases.data && releases.data.length === 0 && <p className="muted">No releases yet: drop the plugin's or theme's zip above.</p>}
      {releases.data && releases.data.length > 0 && (
        <div className="table-scroll">
          <table className="table" data-testid="releases-table">
            <thead><tr><th>Version</th><th>Channel</th><th>Status</th><th>Rollout</th><th>Released</th><th></th></tr></thead>
            <tbody>
              {releases.data.map((r) => <ReleaseRow key={r.id} release={r} onChanged={refresh} />)}
            </tbody>
          </table>
        </div>
      )}
      <SnippetCard productId={product.id} />
    </div>
  );
}

function UpdateSettings({ product, onSaved }: { product: Product; onSaved: () => void }) {
  const current = useQuery({ queryKey: keys.productUpdates(product.id), queryFn: () => ipc.productUpdatesGet(product.id) });
  if (current.isPending) return null;
  const d = current.data;
  // Keyed by what was read: a save (or the first zip setting the slug) starts the form afresh.
  return <UpdateSettingsForm key={JSON.stringify(d)} product={product} onSaved={onSaved}
    initial={{ slug: d?.slug ?? "", kind: d?.kind ?? "", requireActivation: d?.require_activation ?? false }} />;
}

function UpdateSettingsForm({ product, onSaved, initial }: {
  product: Product;
  onSaved: () => void;
  initial: { slug: string; kind: UpdateKind | ""; requireActivation: boolean };
}) {
  const [slug, setSlug] = useState(initial.slug);
  const [kind, setKind] = useState<UpdateKind | "">(initial.kind);
  const [requireActivation, setRequireActivation] = useState(initial.requireActivation);
  const save = useMutation({
    mutationFn: () => ipc.productUpdatesSet(product.id, { slug, kind: kind || undefined, requireActivation }),
    onSuccess: onSaved,
  });
  const error = save.error as IpcError | null;
  return (
    <form className="card" data-testid="update-settings" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <h3>Updates</h3>
      <div className="row3">
        <label className="field">Update slug
          <input data-testid="update-slug" value={slug} onChange={(e) => setSlug(e.target.value)} placeholder="set by the first zip" />
          {error?.field === "update_slug" && <p className="field-error" role="alert">{error.message}</p>}
        </label>
        <label className="field">Kind
          <select data-testid="update-kind" value={kind} onChange={(e) => setKind(e.target.value as UpdateKind | "")}>
            <option value="">Found from the first zip</option>
            <Choices of={UPDATE_KIND_CHOICES} />
          </select>
        </label>
      </div>
      <label className="check">
        <input type="checkbox" data-testid="require-activation" checked={requireActivation} onChange={(e) => setRequireActivation(e.target.checked)} />
        {" "}Only sites where the license is activated receive updates
      </label>
      {error && error.field !== "update_slug" && <div className="banner error" role="alert">{error.message}</div>}
      <div className="form-actions">
        <button type="submit" className="secondary" data-testid="update-settings-save" disabled={save.isPending}>Save update settings</button>
        {save.isSuccess && <span className="muted"> Saved.</span>}
      </div>
    </form>
  );
}

/** Drop a zip on the window (or type its path), choose the channel, add it as a draft. */
function AddZip({ product, onAdded }: { product: Product; onAdded: (a: Added) => void }) {
  const [path, setPath] = useState("");
  const [channel, setChannel] = useState<ReleaseChannel>("stable");
  const [over, setOver] = useState(false);
  const add = useMutation({
    mutationFn: (file: string) => ipc.releaseAdd(file, { product_id: product.id, channel, publish: false }),
    onSuccess: (a) => { setPath(""); onAdded(a); },
  });
  // The handler is the latest render's: a drop uses the channel chosen at that moment.
  useTauriEvent(ipc.onFileDrop, (e) => {
    setOver(e.kind === "over");
    const zip = e.paths.find((p) => p.toLowerCase().endsWith(".zip")) ?? e.paths[0];
    if (e.kind === "drop" && zip) {
      setPath(zip);
      add.mutate(zip);
    }
  });
  const error = add.error as IpcError | null;
  return (
    <form className={`card drop-zone${over ? " over" : ""}`} data-testid="drop-zone" onSubmit={(e) => { e.preventDefault(); if (path.trim()) add.mutate(path.trim()); }}>
      <h3>New release</h3>
      <p className="muted">Drop the {product.name} zip on this window, or give its path. KeyManager reads the version and WordPress's fields from it; it stays a draft until you publish.</p>
      <div className="row3">
        <label className="field">Zip file
          <input data-testid="release-path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/you/km-plugin-1.2.0.zip" />
        </label>
        <label className="field">Channel
          <select data-testid="release-channel" value={channel} onChange={(e) => setChannel(e.target.value as ReleaseChannel)}>
            <Choices of={RELEASE_CHANNEL_CHOICES} />
          </select>
        </label>
      </div>
      {add.isPending && <p className="muted" role="status">Reading the zip…</p>}
      {error && <div className="banner error" role="alert" data-testid="release-error" data-code={error.code}>{error.message}</div>}
      <div className="form-actions"><button type="submit" className="primary" data-testid="release-add" disabled={add.isPending || !path.trim()}>Add release</button></div>
    </form>
  );
}

/** What was read from the zip, the changelog to edit, and Publish with a rollout. */
function ReadFromZip({ added, onDone }: { added: Added; onDone: () => void }) {
  const r = added.release;
  const card = useRef<HTMLDivElement>(null);
  // What was read comes into view (the form that added it is above).
  useEffect(() => card.current?.scrollIntoView?.({ block: "nearest" }), []);
  const [changelog, setChangelog] = useState(r.changelog);
  const [rollout, setRollout] = useState(100);
  const publish = useMutation({
    mutationFn: async () => {
      if (changelog !== r.changelog) await ipc.releaseEdit(r.id, { changelog });
      return ipc.releasePublish(r.id, rollout);
    },
    onSuccess: onDone,
  });
  const keepDraft = useMutation({
    mutationFn: () => (changelog !== r.changelog ? ipc.releaseEdit(r.id, { changelog }) : Promise.resolve(r)),
    onSuccess: onDone,
  });
  const error = (publish.error ?? keepDraft.error) as IpcError | null;
  return (
    <div className="card" data-testid="read-from-zip" ref={card}>
      <h3>{r.product_name} {r.version} <span className={`pill ${r.channel === "beta" ? "suspended" : "active"}`}>{r.channel}</span></h3>
      <dl className="facts">
        <dt>Read from</dt><dd data-testid="read-version-from">{added.version_from ?? "the version you gave"}</dd>
        <dt>Folder</dt><dd>{added.folder} ({added.kind ? UPDATE_KIND_LABELS[added.kind] : "—"})</dd>
        <dt>Requires</dt><dd>WordPress {r.requires ?? "—"}, PHP {r.requires_php ?? "—"}; tested up to {r.tested ?? "—"}</dd>
        <dt>Package</dt><dd>{(Number(r.size) / 1024).toFixed(0)} KiB, SHA-256 <code>{r.sha256.slice(0, 16)}…</code></dd>
      </dl>
      <label className="field">Changelog
        <textarea rows={5} data-testid="release-changelog" value={changelog} onChange={(e) => setChangelog(e.target.value)} />
      </label>
      <label className="field">Rollout: {rollout}% of licenses
        <input type="range" min={0} max={100} step={5} data-testid="release-rollout" value={rollout} onChange={(e) => setRollout(Number(e.target.value))} />
      </label>
      {error && <div className="banner error" role="alert">{error.message}</div>}
      <div className="form-actions">
        <button type="button" className="primary" data-testid="release-publish" disabled={publish.isPending} onClick={() => publish.mutate()}>Publish to {r.channel}</button>
        <button type="button" className="secondary" onClick={() => keepDraft.mutate()}>Keep as draft</button>
      </div>
    </div>
  );
}

function ReleaseRow({ release: r, onChanged }: { release: Release; onChanged: () => void }) {
  const [mode, setMode] = useState<null | "yank" | "rerelease" | "rollout">(null);
  const [text, setText] = useState("");
  const [percent, setPercent] = useState(r.rollout);
  const act = useMutation({
    mutationFn: async (what: "publish" | "remove" | "yank" | "rerelease" | "rollout") => {
      switch (what) {
        case "publish": await ipc.releasePublish(r.id, null); break;
        case "remove": await ipc.releaseRemove(r.id); break;
        case "yank": await ipc.releaseYank(r.id, text); break;
        case "rollout": await ipc.releaseRollout(r.id, percent); break;
        case "rerelease": await ipc.releaseRerelease(r.id, text.trim(), true); break;
      }
    },
    onSuccess: () => { setMode(null); setText(""); onChanged(); },
  });
  const error = act.error as IpcError | null;
  return (
    <>
      <tr data-testid="release-row" data-version={r.version}>
        <td><strong>{r.version}</strong></td>
        <td>{r.channel}</td>
        <td><span className={`pill ${r.status === "published" ? "active" : r.status === "yanked" ? "revoked" : "suspended"}`} data-testid="release-status">{r.status}</span>{r.yank_reason && <span className="muted"> — {r.yank_reason}</span>}</td>
        <td>{r.status === "published" ? `${r.rollout}%` : "—"}</td>
        <td>{r.released_at ? new Date(r.released_at).toLocaleString() : "—"}</td>
        <td className="actions">
          {r.status === "draft" && <button type="button" className="link" data-testid="row-publish" onClick={() => act.mutate("publish")}>Publish</button>}
          {r.status === "draft" && <button type="button" className="link" onClick={() => act.mutate("remove")}>Remove</button>}
          {r.status === "published" && <button type="button" className="link" data-testid="row-rollout" onClick={() => setMode("rollout")}>Rollout…</button>}
          {r.status === "published" && <button type="button" className="link danger" data-testid="row-yank" onClick={() => setMode("yank")}>Yank…</button>}
          {r.status !== "draft" && <button type="button" className="link" data-testid="row-rerelease" onClick={() => setMode("rerelease")}>Re-release as…</button>}
        </td>
      </tr>
      {mode && (
        <tr className="row-form">
          <td colSpan={6}>
            <form onSubmit={(e) => { e.preventDefault(); act.mutate(mode); }}>
              {mode === "yank" && <label className="field">Why is {r.version} withdrawn? Sites are no longer offered or sent it.<input data-testid="yank-reason" value={text} onChange={(e) => setText(e.target.value)} autoFocus /></label>}
              {mode === "rerelease" && <label className="field">New version (above every release sites may have: WordPress never installs an older one)<input data-testid="rerelease-version" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. 1.2.3" autoFocus /></label>}
              {mode === "rollout" && <label className="field">Rollout: {percent}%<input type="range" min={0} max={100} step={5} value={percent} onChange={(e) => setPercent(Number(e.target.value))} /></label>}
              {error && <div className="banner error" role="alert">{error.message}</div>}
              <div className="form-actions">
                <button type="submit" className={mode === "yank" ? "danger" : "primary"} data-testid="row-confirm" disabled={act.isPending || (mode !== "rollout" && !text.trim())}>
                  {mode === "yank" ? "Yank" : mode === "rerelease" ? "Re-release and publish" : "Save rollout"}
                </button>
                <button type="button" className="secondary" onClick={() => setMode(null)}>Cancel</button>
              </div>
            </form>
          </td>
        </tr>
      )}
    </>
  );
}

function SnippetCard({ productId }: { productId: number }) {
  const snippet = useQuery({ queryKey: keys.snippet(productId), queryFn: () => ipc.updateSnippet(productId) });
  const [flavour, setFlavour] = useState<"puc" | "edd">("puc");
  if (!snippet.data) return snippet.isError ? <div className="banner error" role="alert">{snippet.error.message}</div> : null;
  const code = flavour === "edd" && snippet.data.edd ? snippet.data.edd : snippet.data.puc;
  return (
    <div className="card" data-testid="snippet">
      <h3>Add to your product</h3>
      {snippet.data.problem && <div className="banner warn" role="alert" data-testid="snippet-problem">{snippet.data.problem}</div>}
      <div className="tabs" role="tablist">
        <button type="button" role="tab" className={`tab${flavour === "puc" ? " active" : ""}`} onClick={() => setFlavour("puc")}>plugin-update-checker</button>
        {snippet.data.edd && <button type="button" role="tab" className={`tab${flavour === "edd" ? " active" : ""}`} data-testid="snippet-edd" onClick={() => setFlavour("edd")}>EDD updater</button>}
      </div>
      <pre className="code" data-testid="snippet-code">{code}</pre>
      <CopyButton text={code} testid="snippet-copy" />
    </div>
  );
}
