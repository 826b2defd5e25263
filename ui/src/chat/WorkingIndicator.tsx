import { useEffect, useState } from "react";
import { Button } from "../shared/ui";
import { formatElapsed } from "./format";

type WorkingIndicatorProps = {
  /** at_ms of the prompt that started the turn. */
  since: number;
  /** Set when the agent has said nothing for this long (agent_silent) in this turn. */
  silentMs: number | null;
  onCancel: () => void;
  cancelling?: boolean;
  /** The clock (tests). */
  now?: () => number;
};

/** "Working 1:23" ticking each second, an inline Cancel, and a flag when the agent went silent. */
export function WorkingIndicator({ since, silentMs, onCancel, cancelling = false, now = Date.now }: WorkingIndicatorProps) {
  const [time, setTime] = useState(now);
  useEffect(() => {
    setTime(now());
    const timer = setInterval(() => setTime(now()), 1000);
    return () => clearInterval(timer);
  }, [now]);
  const elapsed = formatElapsed(time - since);
  const silentMinutes = silentMs === null ? null : Math.max(1, Math.round(silentMs / 60_000));
  return (
    <div className="chat-working" data-testid="chat-working">
      <span className="dot dot--busy" aria-hidden="true" />
      <span role="status">{cancelling ? "Cancelling…" : "The agent is working"}</span>
      <time className="chat-working__elapsed" data-testid="chat-working-elapsed" aria-label={`for ${elapsed}`}>
        {elapsed}
      </time>
      {silentMinutes !== null ? (
        <span className="status-tag status-tag--warning" role="status" data-testid="chat-working-silent">
          Silent for {silentMinutes} min
        </span>
      ) : null}
      <Button variant="ghost" className="button--small button--danger-text" disabled={cancelling} onClick={onCancel}>
        Cancel
      </Button>
    </div>
  );
}
