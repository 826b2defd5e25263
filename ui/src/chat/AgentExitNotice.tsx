import { useId, useState } from "react";
import { Button } from "../shared/ui";
import { useExpanded } from "./expansion";
import type { ExitItem, FailedItem } from "./reducer";

type RestartProps = {
  /** Offered only for the latest exit, while the agent has not started again. */
  canRestart: boolean;
  onRestart: () => Promise<void>;
};

function RestartButton({ onRestart, label }: { onRestart: () => Promise<void>; label: string }) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function restart() {
    setPending(true);
    setError(null);
    try {
      await onRestart();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : "The agent did not start.");
    } finally {
      setPending(false);
    }
  }
  return (
    <>
      <Button variant="primary" className="button--small" disabled={pending} onClick={() => void restart()}>
        {pending ? "Restarting…" : label}
      </Button>
      {error ? (
        <p className="field__error" role="alert">
          Could not restart: {error}
        </p>
      ) : null}
    </>
  );
}

/** The agent process ended: its exit code, the tail of its stderr (collapsed) and a restart. */
export function AgentExitNotice({ item, canRestart, onRestart }: { item: ExitItem } & RestartProps) {
  const [open, toggle] = useExpanded(`${item.key}:stderr`);
  const stderrId = useId();
  const tail = item.stderrTail.trimEnd();
  return (
    <section className="chat-notice chat-notice--warning" aria-label="The agent exited" data-testid="chat-exit">
      <p className="chat-notice__title">
        The agent exited{item.code === null ? " (killed by a signal)" : item.code === 0 ? "" : ` with code ${item.code}`}.
      </p>
      {tail ? (
        <>
          <button type="button" className="chat-disclosure" aria-expanded={open} aria-controls={open ? stderrId : undefined} onClick={toggle}>
            {open ? "Hide its last output" : "Show its last output"}
          </button>
          {open ? (
            <pre id={stderrId} className="chat-notice__stderr">
              {tail}
            </pre>
          ) : null}
        </>
      ) : null}
      {canRestart ? (
        <div className="chat-notice__actions">
          <RestartButton onRestart={onRestart} label="Restart with history" />
          <span className="muted small">Starts the agent again with this conversation.</span>
        </div>
      ) : null}
    </section>
  );
}

/** The agent could not start at all. */
export function AgentFailedNotice({ item, canRestart, onRestart }: { item: FailedItem } & RestartProps) {
  return (
    <section className="chat-notice chat-notice--error" role="alert" aria-label="The agent could not start" data-testid="chat-failed">
      <p className="chat-notice__title">The agent could not start</p>
      <p>{item.reason}</p>
      {canRestart ? (
        <div className="chat-notice__actions">
          <RestartButton onRestart={onRestart} label="Try again" />
        </div>
      ) : null}
    </section>
  );
}
