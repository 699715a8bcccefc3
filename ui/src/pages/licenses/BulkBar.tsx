import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ipc } from "../../ipc";
import { keys } from "../../queryKeys";
import { latestError } from "../../hooks/latestError";
import { Choices } from "../../components/Choices";
import { LICENSE_ACTION_CHOICES } from "../../options";
import type { LicenseAction } from "../../bindings/LicenseAction";

/** Suspend, revoke or reactivate the selected licenses with one reason. */
export function BulkBar({ ids, onDone }: { ids: number[]; onDone: (said: string | null) => void }) {
  const queryClient = useQueryClient();
  const [action, setAction] = useState<LicenseAction>("suspend");
  const [reason, setReason] = useState("");
  const apply = useMutation({
    mutationFn: () => ipc.licensesChangeStatus(ids, action, reason),
    onSuccess: (r) => {
      const skipped = r.skipped.length ? `; ${r.skipped.length} left as they were (${r.skipped[0].message})` : "";
      void queryClient.invalidateQueries({ queryKey: keys.licenses });
      void queryClient.invalidateQueries({ queryKey: ["license"] });
      void queryClient.invalidateQueries({ queryKey: keys.dashboard });
      onDone(`${r.changed.length} license${r.changed.length === 1 ? "" : "s"} changed${skipped}.`);
    },
  });
  return (
    <>
      <form className="bulk-bar card" data-testid="bulk-bar" onSubmit={(e) => { e.preventDefault(); apply.mutate(); }}>
        <strong data-testid="bulk-count">{ids.length} selected</strong>
        <select aria-label="Action" data-testid="bulk-action" value={action} onChange={(e) => setAction(e.target.value as LicenseAction)}>
          <Choices of={LICENSE_ACTION_CHOICES} />
        </select>
        <input aria-label="Reason" data-testid="bulk-reason" placeholder="Reason (kept in each audit trail)" value={reason} onChange={(e) => setReason(e.target.value)} />
        <button type="submit" className={action === "revoke" ? "danger" : "primary"} data-testid="bulk-apply" disabled={apply.isPending}>Apply</button>
        <button type="button" className="secondary" onClick={() => onDone(null)}>Clear selection</button>
      </form>
      {apply.isError && <div className="banner error" role="alert" data-testid="bulk-error">{latestError(apply)?.message}</div>}
    </>
  );
}
