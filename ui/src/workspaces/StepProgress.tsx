import type { Workspace } from "../shared/ipc";
import { isWorkspaceBusy } from "../shared/queries";
import { CheckIcon, ErrorIcon } from "../shared/ui";
import { formatMillis, stepLabel, stepRows, type StepRow } from "./format";

const STATE_WORD: Record<StepRow["state"], string> = {
  pending: "not started",
  running: "running",
  done: "done",
  failed: "failed",
};

/** The provisioning steps with their timings, and a bar of done steps over expected steps. */
export function StepProgress({ workspace }: { workspace: Workspace }) {
  const rows = stepRows(workspace);
  const busy = isWorkspaceBusy(workspace.state);
  const done = rows.filter((row) => row.state === "done").length;
  const total = rows.length;
  const elapsed = rows.reduce((sum, row) => sum + (row.millis ?? 0), 0);
  const summary = `${done} of ${total} steps done`;

  return (
    <div className="steps" data-testid="workspace-progress">
      <div className="steps__summary">
        <span data-testid="workspace-progress-text">{summary}</span>
        {elapsed > 0 ? <span className="muted">{formatMillis(elapsed)} in all</span> : null}
      </div>
      <progress
        className={`progress${workspace.state === "failed" ? " progress--failed" : ""}`}
        aria-label="Setup progress"
        aria-valuetext={summary}
        max={total}
        value={done}
        data-testid="workspace-progress-bar"
      />
      <ol className="steps__list">
        {rows.map((row) => {
          // A step left running by a stopped provisioning (a cancel, a quit) is not running.
          const state = row.state === "running" && !busy ? "pending" : row.state;
          return (
            <li
              key={row.step}
              className={`step step--${state}`}
              data-testid="workspace-step"
              data-step={row.step}
              data-state={state}
            >
              <span className="step__icon" aria-hidden="true">
                <StepIcon state={state} />
              </span>
              <span className="step__text">
                <span className="step__label">
                  {stepLabel(row.step, workspace.spec.repo)}
                  <span className="sr-only">: {STATE_WORD[state]}</span>
                </span>
                {/* The workspace's failure banner already says it when it is the same text. */}
                {state === "failed" && row.detail && row.detail !== workspace.failure ? (
                  <span className="step__detail small">{row.detail}</span>
                ) : null}
              </span>
              <span className="step__time muted small" data-testid="workspace-step-time">
                {row.millis !== null && state !== "pending" ? formatMillis(row.millis) : state === "running" ? "running…" : ""}
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function StepIcon({ state }: { state: StepRow["state"] }) {
  switch (state) {
    case "done":
      return <CheckIcon />;
    case "failed":
      return <ErrorIcon />;
    case "running":
      return <span className="spinner" />;
    case "pending":
      return <span className="step__dot" />;
  }
}
