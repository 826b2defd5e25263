// Wording and formatting for the credentials view. Kind labels, hints and fields come from the
// core (credentialKinds); only what the core does not say lives here.
import { useEffect, useState } from "react";
import type { CheckState, CredentialGroup, CredentialKind, CredentialScope, KindInfo } from "../shared/ipc";

export type GroupInfo = { group: CredentialGroup; title: string; empty: string; addLabel: string };

/** The sections of the list, in order. */
export const GROUPS: readonly GroupInfo[] = [
  { group: "cloud", title: "Cloud accounts", empty: "No cloud account yet.", addLabel: "Add a cloud account" },
  { group: "agent", title: "Agents", empty: "No agent key yet.", addLabel: "Add an agent key" },
  {
    group: "source_control",
    title: "Source control",
    empty: "No source-control token yet.",
    addLabel: "Add a source-control token",
  },
];

export type StatusTone = "ok" | "warning" | "error" | "neutral";

export const STATUS: Record<CheckState, { label: string; tone: StatusTone }> = {
  unchecked: { label: "Not checked", tone: "neutral" },
  valid: { label: "Valid", tone: "ok" },
  read_only: { label: "Read-only", tone: "warning" },
  rejected: { label: "Rejected", tone: "error" },
  rate_limited: { label: "Rate limited", tone: "warning" },
  unreachable: { label: "Unreachable", tone: "warning" },
};

/** Who a new credential is checked with, for "Checking with … ". */
export const PROVIDER: Record<CredentialKind, string> = {
  hetzner_token: "Hetzner",
  scaleway_keys: "Scaleway",
  anthropic_api_key: "Anthropic",
  claude_oauth_token: "Anthropic",
  openai_api_key: "OpenAI",
  codex_auth_json: "OpenAI",
  gemini_api_key: "Google",
  mistral_api_key: "Mistral",
  openai_compatible: "your endpoint",
  github_token: "GitHub",
};

export function scopeLabel(scope: CredentialScope): string {
  return scope.scope === "global" ? "Global" : `Project: ${scope.project}`;
}

export function kindLabel(kinds: readonly KindInfo[], kind: CredentialKind): string {
  return kinds.find((info) => info.kind === kind)?.label ?? kind;
}

/** "just now", "2 min ago", "3 hours ago", "yesterday", "5 days ago", "on 3/14/2025". */
export function relativeTime(unixSeconds: number, nowMs: number): string {
  const seconds = Math.max(0, Math.round(nowMs / 1000 - unixSeconds));
  if (seconds < 45) return "just now";
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 30) return `${days} days ago`;
  return `on ${new Date(unixSeconds * 1000).toLocaleDateString()}`;
}

/** The current time, refreshed every `intervalMs` so relative times stay true. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}
