import type { PlanEntry } from "./reducer";

const STATUS: Record<string, { mark: string; label: string }> = {
  pending: { mark: "○", label: "to do" },
  in_progress: { mark: "◐", label: "in progress" },
  completed: { mark: "●", label: "done" },
};

/** The agent's plan as a checklist. */
export function PlanView({ entries }: { entries: readonly PlanEntry[] }) {
  const done = entries.filter((entry) => entry.status === "completed").length;
  return (
    <section className="chat-plan" aria-label="Plan" data-testid="chat-plan">
      <p className="chat-plan__title">
        Plan <span className="muted small">· {done} of {entries.length} done</span>
      </p>
      <ol className="chat-plan__list">
        {entries.map((entry, index) => {
          const status = STATUS[entry.status] ?? { mark: "○", label: entry.status };
          return (
            <li key={index} className={`chat-plan__entry chat-plan__entry--${entry.status}`} data-status={entry.status}>
              <span className="chat-plan__mark" aria-hidden="true">
                {status.mark}
              </span>
              <span className="chat-plan__content">{entry.content}</span>
              <span className="sr-only">({status.label})</span>
              {entry.priority === "high" ? <span className="status-tag status-tag--warning">high</span> : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
