// Servers SAM made (labelled with this install's id) that no workspace owns: they cost money and
// nobody sees them. The periodic reconcile finds them; a banner in the sidebar (and a
// notification) leads here, where they can be deleted, now or always.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import type { Orphans_Serialize as OrphansData } from "../bindings";
import { orphansGet, orphansReconcile } from "../shared/ipc";
import { useUiStore } from "../shared/store";
import { AlertIcon, Button, Dialog, ErrorAlert } from "../shared/ui";
import "../features/attention/attention.css";

const KEY = ["orphans"] as const;

function remaining(data: OrphansData | undefined) {
  return (data?.report?.orphans ?? []).filter((orphan) => !orphan.deleted);
}

export function useOrphans() {
  return useQuery({ queryKey: KEY, queryFn: () => orphansGet(), refetchInterval: 60_000 });
}

/** The sidebar's banner while orphaned servers exist. */
export function OrphansBanner() {
  const orphans = useOrphans();
  const setOpen = useUiStore((state) => state.setOrphansOpen);
  const left = remaining(orphans.data);
  if (left.length === 0) return null;
  return (
    <div className="orphans-banner" role="status" data-testid="orphans-banner">
      <AlertIcon />
      <span>{left.length === 1 ? "1 cloud server has no workspace" : `${left.length} cloud servers have no workspace`}</span>
      <Button variant="ghost" onClick={() => setOpen(true)}>
        Review
      </Button>
    </div>
  );
}

export function OrphansDialog() {
  const open = useUiStore((state) => state.orphansOpen);
  const setOpen = useUiStore((state) => state.setOrphansOpen);
  const client = useQueryClient();
  const orphans = useOrphans();
  const closeRef = useRef<HTMLButtonElement>(null);
  const [always, setAlways] = useState<boolean | null>(null);
  const act = useMutation({
    mutationFn: ({ deleteThem, auto }: { deleteThem: boolean; auto: boolean | null }) => orphansReconcile(deleteThem, auto),
    onSuccess: (data) => client.setQueryData(KEY, data),
  });
  if (!open) return null;
  const data = orphans.data;
  const left = remaining(data);
  const auto = always ?? data?.deleteAutomatically ?? false;
  const unchecked = data?.report?.unchecked ?? [];

  function close() {
    if (!act.isPending) setOpen(false);
  }

  return (
    <Dialog
      role="alertdialog"
      title="Cloud servers without a workspace"
      onClose={close}
      initialFocus={closeRef}
      data-testid="orphans-dialog"
      actions={
        <>
          <Button ref={closeRef} onClick={close} disabled={act.isPending}>
            Close
          </Button>
          <Button onClick={() => act.mutate({ deleteThem: false, auto: always })} disabled={act.isPending}>
            Check again
          </Button>
          <Button
            variant="danger"
            data-testid="orphans-delete"
            disabled={act.isPending || left.length === 0}
            onClick={() => act.mutate({ deleteThem: true, auto: always })}
          >
            {act.isPending ? "Working…" : "Delete them"}
          </Button>
        </>
      }
    >
      {left.length === 0 ? (
        <p data-testid="orphans-none">No server SAM made is left without a workspace.</p>
      ) : (
        <>
          <p>SAM made these servers for workspaces that no longer exist (after a crash, or a deletion that did not finish). They keep costing money until deleted; no chat history is on them.</p>
          <ul className="orphans__list" data-testid="orphans-list">
            {left.map((orphan) => (
              <li key={`${orphan.provider}:${orphan.serverId}`}>
                <strong>{orphan.name}</strong> — {orphan.provider}, {orphan.location} (server {orphan.serverId})
              </li>
            ))}
          </ul>
        </>
      )}
      {unchecked.length > 0 ? <p className="muted small">Not checked: {unchecked.join("; ")}.</p> : null}
      <label className="checkbox">
        <input type="checkbox" data-testid="orphans-auto" checked={auto} onChange={(event) => setAlways(event.target.checked)} />
        From now on, delete such servers without asking
      </label>
      {act.isError ? <ErrorAlert error={act.error} context="The reconcile did not finish" compact /> : null}
    </Dialog>
  );
}
