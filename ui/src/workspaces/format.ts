// Wording, formatting and the client-side checks of the workspaces feature. The checks mirror
// crates/sam-workspace (`check_spec`) so most mistakes are caught while typing; the core checks
// again and its answer is shown whenever it disagrees (a folder that does not exist, say).
import type { CloudSize, Lifecycle, Provider, Repo, StepTiming, Workspace } from "../shared/ipc";

export type StateTone = "ok" | "warning" | "error" | "neutral";

export const STATE: Record<Lifecycle, { label: string; tone: StateTone }> = {
  requested: { label: "Starting", tone: "neutral" },
  provisioning: { label: "Setting up", tone: "neutral" },
  ready: { label: "Ready", tone: "ok" },
  stopping: { label: "Deleting", tone: "warning" },
  deleted: { label: "Deleted", tone: "neutral" },
  failed: { label: "Failed", tone: "error" },
};

export const PROVIDER_LABEL: Record<Provider, string> = {
  local: "This computer",
  hetzner: "Hetzner Cloud",
  scaleway: "Scaleway",
};

/** The steps each kind of workspace goes through, in order (crates/sam-workspace `steps`). */
export const EXPECTED_STEPS: Record<"local" | "cloud", readonly string[]> = {
  local: ["start_host", "checkout"],
  cloud: ["ensure_ssh_key", "create_server", "wait_for_ip", "wait_for_ssh", "upload_host", "start_host", "checkout"],
};

export function expectedSteps(provider: Provider): readonly string[] {
  return provider === "local" ? EXPECTED_STEPS.local : EXPECTED_STEPS.cloud;
}

const STEP_LABEL: Record<string, string> = {
  ensure_ssh_key: "Register SAM's SSH key",
  create_server: "Create the server",
  wait_for_ip: "Wait for its IP address",
  wait_for_ssh: "Wait for SSH",
  upload_host: "Upload the workspace host",
  start_host: "Start the workspace host",
};

export function stepLabel(step: string, repo: Repo): string {
  if (step === "checkout") return repo.kind === "folder" ? "Check the folder" : "Clone the repository";
  return STEP_LABEL[step] ?? step.replaceAll("_", " ");
}

export type StepRow = { step: string; state: "pending" | "running" | "done" | "failed"; millis: number | null; detail: string | null };

/** The expected steps with what the record says of each, then any step the UI does not know. */
export function stepRows(workspace: Workspace): StepRow[] {
  const recorded = new Map(workspace.steps.map((step) => [step.step, step]));
  const toRow = (step: string, timing: StepTiming | undefined): StepRow => ({
    step,
    state: timing ? rowState(timing.state) : "pending",
    millis: timing?.millis ?? null,
    detail: timing?.detail ?? null,
  });
  const expected = expectedSteps(workspace.spec.provider);
  const rows = expected.map((step) => toRow(step, recorded.get(step)));
  for (const timing of workspace.steps) {
    if (!expected.includes(timing.step)) rows.push(toRow(timing.step, timing));
  }
  return rows;
}

function rowState(state: string): StepRow["state"] {
  return state === "running" || state === "done" || state === "failed" ? state : "pending";
}

/** "420 ms", "1.3 s", "2 min 5 s". */
export function formatMillis(millis: number): string {
  if (millis < 1000) return `${Math.round(millis)} ms`;
  if (millis < 60_000) return `${(millis / 1000).toFixed(1)} s`;
  const seconds = Math.round(millis / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// ---------- Cloud catalogue ----------

/** The locations SAM prefers when the user has not picked one (crates/sam-workspace). */
const PREFERRED_LOCATIONS: Record<Provider, readonly string[]> = {
  local: [],
  hetzner: ["fsn1", "nbg1", "hel1"],
  scaleway: ["fr-par-1", "fr-par-2", "nl-ams-1"],
};

export function defaultLocation(provider: Provider, ids: readonly string[]): string | null {
  return PREFERRED_LOCATIONS[provider].find((id) => ids.includes(id)) ?? ids[0] ?? null;
}

/** The medium preset's size when it is sold here, else the first size in stock. */
export function defaultSize(sizes: readonly CloudSize[]): string | null {
  const medium = sizes.find((size) => size.preset === "medium" && size.available);
  return (medium ?? sizes.find((size) => size.available) ?? null)?.id ?? null;
}

export function formatMemory(mib: number): string {
  const gb = mib / 1024;
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}

export function formatPrice(amount: number | null, currency: string, fractionDigits: number): string {
  if (amount === null) return "—";
  try {
    return new Intl.NumberFormat(undefined, {
      style: "currency",
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: fractionDigits,
    }).format(amount);
  } catch {
    // A currency code Intl does not know.
    return `${amount.toFixed(fractionDigits)} ${currency}`;
  }
}

/** "cx33 · 4 vCPU · 8 GB · €0.0097/h · €5.99/month". */
export function sizeLabel(size: CloudSize): string {
  const parts = [
    size.id,
    `${size.vcpus} vCPU`,
    formatMemory(size.memoryMib),
    `${formatPrice(size.hourly, size.currency, 4)}/h`,
    `${formatPrice(size.monthly, size.currency, 2)}/month`,
  ];
  if (size.arch !== "x86_64") parts.splice(3, 0, size.arch);
  const notes = [size.preset === "medium" ? "recommended" : null, size.available ? null : "out of stock"].filter(Boolean);
  return parts.join(" · ") + (notes.length > 0 ? ` (${notes.join(", ")})` : "");
}

// ---------- The create form ----------

/** A repository URL rather than a folder: the CLI's rule (`://`, or `user@host:path`). */
export function looksLikeUrl(repo: string): boolean {
  const trimmed = repo.trim();
  return trimmed.includes("://") || (trimmed.includes("@") && trimmed.includes(":"));
}

export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

const NAME_RULE = "A workspace name is 1 to 40 lower-case letters, digits or dashes, not starting or ending with a dash.";

/** A default name from the repository's last path segment, made valid and not yet taken. */
export function deriveName(repo: string, taken: ReadonlySet<string>): string {
  const last =
    repo
      .trim()
      .replace(/\/+$/, "")
      .replace(/(\.git)+$/, "")
      .split(/[/:\\]/)
      .pop() ?? "";
  const cleaned = last
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  const base = cleaned === "" ? "workspace" : cleaned;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    const suffix = `-${n}`;
    const candidate = base.slice(0, 40 - suffix.length).replace(/-+$/, "") + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

export type WorkspaceForm = {
  provider: Provider;
  repo: string;
  branch: string;
  name: string;
  location: string | null;
  size: string | null;
};

export type FormField = "repo" | "branch" | "name" | "location" | "size";
export type FormProblems = Partial<Record<FormField, string>>;

/** The order problems are focused in. */
export const FIELD_ORDER: readonly FormField[] = ["repo", "branch", "location", "size", "name"];

/** The same rules as the core's `check_spec`, in its words where it has some. */
export function validateWorkspace(form: WorkspaceForm, taken: ReadonlySet<string>): FormProblems {
  const problems: FormProblems = {};
  const repo = form.repo.trim();
  const branch = form.branch.trim();
  const name = form.name.trim();

  if (repo === "") {
    problems.repo = "Enter a git URL or the path of a folder on this computer.";
  } else if (looksLikeUrl(repo)) {
    const knownScheme =
      ["https://", "http://", "ssh://", "git://", "file://"].some((scheme) => repo.startsWith(scheme)) ||
      (repo.includes("@") && repo.includes(":"));
    if (!knownScheme || repo.startsWith("-") || /\s/.test(repo)) {
      problems.repo = `"${repo.slice(0, 200)}" is not a repository URL: use https://…, ssh://…, git@host:path or file://…, or a folder path.`;
    }
  } else if (form.provider !== "local") {
    problems.repo =
      "A cloud workspace clones a repository URL; a folder on this computer can only be a local workspace.";
  } else if (repo.startsWith("~")) {
    problems.repo = "Write the folder's full path (starting with /): SAM does not expand ~.";
  } else if (!isAbsolutePath(repo)) {
    problems.repo = "The folder must be an absolute path.";
  }

  if (branch !== "") {
    if (repo !== "" && !looksLikeUrl(repo)) {
      problems.branch = "A folder is used as it is: switch its branch with git.";
    } else if (branch.startsWith("-") || branch.length > 200 || /[\s\p{Cc}]/u.test(branch)) {
      problems.branch = `"${branch.slice(0, 80)}" is not a branch name.`;
    }
  }

  if (form.provider !== "local") {
    if (form.location === null) problems.location = "Pick a location.";
    if (form.size === null) problems.size = "Pick a size.";
  }

  const valid =
    name !== "" && name.length <= 40 && /^[a-z0-9-]+$/.test(name) && !name.startsWith("-") && !name.endsWith("-");
  if (!valid) {
    problems.name = NAME_RULE;
  } else if (taken.has(name)) {
    problems.name = `A workspace named "${name}" already exists. Pick another name.`;
  }
  return problems;
}

/** The spec the core receives for a form that passed validation. */
export function specOf(form: WorkspaceForm) {
  const repo = form.repo.trim();
  const branch = form.branch.trim();
  const cloud = form.provider !== "local";
  return {
    name: form.name.trim(),
    provider: form.provider,
    repo: looksLikeUrl(repo) ? ({ kind: "url", url: repo } as const) : ({ kind: "folder", path: repo } as const),
    branch: branch === "" ? null : branch,
    size: cloud ? form.size : null,
    locations: cloud && form.location !== null ? [form.location] : [],
  };
}

/** Names of the workspaces that are not deleted (a deleted one's name can be used again). */
export function takenNames(workspaces: readonly Workspace[] | undefined): Set<string> {
  return new Set((workspaces ?? []).filter((w) => w.state !== "deleted").map((w) => w.spec.name));
}

export function repoText(repo: Repo): string {
  return repo.kind === "url" ? repo.url : repo.path;
}
