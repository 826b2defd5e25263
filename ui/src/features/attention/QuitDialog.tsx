// Quitting while cloud workspaces run: say which keep running and what they cost, and offer to
// delete them first. Nothing is deleted without this choice, and a failed deletion keeps the
// app open with the reason.
import { useRef, useState } from "react";
import { appQuit } from "../../shared/ipc";
import { useWorkspaces } from "../../shared/queries";
import { useUiStore } from "../../shared/store";
import { Button, Dialog, ErrorAlert } from "../../shared/ui";
import { formatPrice, PROVIDER_LABEL } from "../../workspaces/format";
import "./attention.css";

export function QuitDialog() {
  const open = useUiStore((state) => state.quitOpen);
  const setOpen = useUiStore((state) => state.setQuitOpen);
  const workspaces = useWorkspaces();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState<"delete" | "keep" | null>(null);
  const [error, setError] = useState<Error | null>(null);
  if (!open) return null;
  const cloud = (workspaces.data ?? []).filter((w) => w.spec.provider !== "local" && w.state !== "deleted");
  const hourly = cloud.reduce((sum, w) => sum + (w.cost?.hourly ?? 0), 0);
  const currency = cloud.find((w) => w.cost)?.cost?.currency ?? "EUR";

  async function quit(deleteCloud: boolean) {
    setBusy(deleteCloud ? "delete" : "keep");
    setError(null);
    try {
      await appQuit(deleteCloud);
    } catch (caught) {
      setBusy(null);
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  }

  function close() {
    if (busy === null) setOpen(false);
  }

  return (
    <Dialog
      role="alertdialog"
      title="Cloud workspaces keep running"
      onClose={close}
      initialFocus={cancelRef}
      data-testid="quit-dialog"
      actions={
        <>
          <Button ref={cancelRef} onClick={close} disabled={busy !== null}>
            Cancel
          </Button>
          <Button onClick={() => void quit(false)} disabled={busy !== null} data-testid="quit-keep">
            {busy === "keep" ? "Quitting…" : "Quit, keep them"}
          </Button>
          <Button variant="danger" onClick={() => void quit(true)} disabled={busy !== null} data-testid="quit-delete">
            {busy === "delete" ? "Deleting…" : "Delete them and quit"}
          </Button>
        </>
      }
    >
      <p>
        These servers stay on after SAM quits and cost money until they are deleted
        {hourly > 0 ? ` (together ${formatPrice(hourly, currency, 4)} an hour)` : ""}. SAM's idle policy only runs while the app does.
      </p>
      <ul className="quit-dialog__list" data-testid="quit-workspaces">
        {cloud.map((w) => (
          <li key={w.id}>
            <strong>{w.spec.name}</strong> — {PROVIDER_LABEL[w.spec.provider]}
            {w.cost ? `, ${formatPrice(w.cost.spent, w.cost.currency, 2)} so far, ${formatPrice(w.cost.hourly, w.cost.currency, 4)}/h` : ""}
          </li>
        ))}
      </ul>
      <p className="muted small">Deleting keeps every chat; the repositories' unpushed changes on those servers are lost.</p>
      {error !== null ? <ErrorAlert error={error} context="Not quit" compact /> : null}
    </Dialog>
  );
}
