import { formatElapsed, stopReasonLabel } from "./format";
import type { TurnEndItem } from "./reducer";

/** Where a turn ended, how, and how long it took. */
export function TurnEnd({ item }: { item: TurnEndItem }) {
  const label = stopReasonLabel(item.stopReason, item.error);
  const problem = item.stopReason !== "end_turn" && item.stopReason !== "cancelled";
  return (
    <div className={`chat-turn-end${problem ? " chat-turn-end--problem" : ""}`} data-testid="chat-turn-end" data-reason={item.stopReason}>
      <span className="chat-turn-end__label" role={problem ? "alert" : undefined}>
        {label}
      </span>
      {item.durationMs !== null ? <span className="muted small"> · {formatElapsed(item.durationMs)}</span> : null}
    </div>
  );
}
