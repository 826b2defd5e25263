// Words for what the chat shows.
import type { PermissionItem, Usage } from "./reducer";
import type { SessionState } from "./types";

/** m:ss, or h:mm:ss from an hour on. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** 950, 12.3k, 1.2M */
export function formatTokens(count: number): string {
  if (count < 1000) return String(Math.round(count));
  if (count < 1_000_000) return `${trim((count / 1000).toFixed(count < 10_000 ? 1 : 0))}k`;
  return `${trim((count / 1_000_000).toFixed(1))}M`;
}

function trim(value: string): string {
  return value.endsWith(".0") ? value.slice(0, -2) : value;
}

export function formatCost(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency, maximumFractionDigits: amount < 1 ? 3 : 2 }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

export function formatUsage(usage: Usage): string {
  const parts = [`${formatTokens(usage.used)} / ${formatTokens(usage.size)} tokens`];
  if (usage.cost) parts.push(formatCost(usage.cost.amount, usage.cost.currency));
  return parts.join(" · ");
}

export const SESSION_STATE: Record<SessionState, { label: string; tone: "ok" | "warning" | "error" | "neutral" | "busy" }> = {
  starting: { label: "Starting", tone: "busy" },
  idle: { label: "Ready", tone: "ok" },
  working: { label: "Working", tone: "busy" },
  waiting: { label: "Needs you", tone: "warning" },
  ended: { label: "Ended", tone: "neutral" },
  resumable: { label: "Paused", tone: "neutral" },
  failed: { label: "Failed", tone: "error" },
};

export function sessionStateInfo(state: string) {
  return SESSION_STATE[state as SessionState] ?? { label: state, tone: "neutral" as const };
}

const TOOL_KIND: Record<string, string> = {
  read: "Read",
  edit: "Edit",
  delete: "Delete",
  move: "Move",
  search: "Search",
  execute: "Run",
  think: "Think",
  fetch: "Fetch",
  switch_mode: "Switch mode",
  other: "Tool",
};

export function toolKindLabel(kind: string): string {
  return TOOL_KIND[kind] ?? "Tool";
}

const TOOL_STATUS: Record<string, { label: string; tone: "ok" | "warning" | "error" | "neutral" | "busy" }> = {
  pending: { label: "Pending", tone: "neutral" },
  in_progress: { label: "Running", tone: "busy" },
  completed: { label: "Done", tone: "ok" },
  failed: { label: "Failed", tone: "error" },
};

export function toolStatusInfo(status: string) {
  return TOOL_STATUS[status] ?? { label: status, tone: "neutral" as const };
}

/** How a turn ended, in words; null for a plain end_turn. */
export function stopReasonLabel(stopReason: string, error: string | null): string {
  switch (stopReason) {
    case "end_turn":
      return "Done";
    case "cancelled":
      return "Cancelled";
    case "max_tokens":
      return "Stopped: the agent reached its token limit";
    case "max_turn_requests":
      return "Stopped: too many model requests in one turn";
    case "refusal":
      return "The agent refused to go on";
    case "error":
      return error ? `Failed: ${error}` : "Failed";
    default:
      return error ? `Ended (${stopReason}): ${error}` : `Ended (${stopReason})`;
  }
}

export function answeredBy(by: string): string {
  switch (by) {
    case "desktop":
      return "in SAM Desktop";
    case "cli":
      return "from the terminal";
    case "notification":
      return "from a notification";
    default:
      return `by ${by}`;
  }
}

/** What became of a permission request, or null while it is open. */
export function resolutionLabel(item: PermissionItem): string | null {
  const outcome = item.outcome;
  if (outcome === null) return item.open ? null : "No answer: the turn ended first";
  switch (outcome.outcome) {
    case "cancelled":
      return "Cancelled";
    case "expired":
      return "Expired";
    case "selected": {
      const option = item.options.find((candidate) => candidate.option_id === outcome.option_id);
      const what =
        option?.kind === "allow_once"
          ? "Allowed once"
          : option?.kind === "allow_always"
            ? "Always allowed"
            : option?.kind === "reject_once"
              ? "Rejected"
              : option?.kind === "reject_always"
                ? "Always rejected"
                : `Chose “${option?.name ?? outcome.option_id}”`;
      return `${what} · answered ${answeredBy(outcome.by)}`;
    }
    default:
      return "Resolved";
  }
}
