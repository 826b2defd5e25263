import { useId, useRef, useState, type FormEvent, type ReactNode, type Ref } from "react";
import type { CredentialKind, Provider, Workspace } from "../shared/ipc";
import { useCloudLocations, useCloudSizes, useCreateWorkspace, useCredentials, useWorkspaces } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { Button, Dialog, ErrorAlert } from "../shared/ui";
import {
  defaultLocation,
  defaultSize,
  deriveName,
  FIELD_ORDER,
  looksLikeUrl,
  PROVIDER_LABEL,
  sizeLabel,
  specOf,
  takenNames,
  validateWorkspace,
  type FormField,
  type WorkspaceForm,
} from "./format";

type NewWorkspaceDialogProps = {
  onClose: () => void;
  onCreated: (workspace: Workspace) => void;
};

const CLOUD: ReadonlyArray<{ provider: Exclude<Provider, "local">; kind: CredentialKind; credential: string }> = [
  { provider: "hetzner", kind: "hetzner_token", credential: "a Hetzner Cloud API token" },
  { provider: "scaleway", kind: "scaleway_keys", credential: "a Scaleway API key" },
];

const inputId = (field: FormField) => `workspace-${field}`;

/**
 * The New workspace dialog. Creating records the workspace and returns at once; provisioning
 * runs in the background and the workspace view follows it.
 */
export function NewWorkspaceDialog({ onClose, onCreated }: NewWorkspaceDialogProps) {
  const [provider, setProvider] = useState<Provider>("local");
  const [repo, setRepo] = useState("");
  const [branch, setBranch] = useState("");
  // null: follow the default (derived from the repository; the preferred location; the
  // medium size) until the user picks their own.
  const [name, setName] = useState<string | null>(null);
  const [location, setLocation] = useState<string | null>(null);
  const [size, setSize] = useState<string | null>(null);
  // Problems show from the first Create on, and then follow every edit.
  const [attempted, setAttempted] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const repoRef = useRef<HTMLInputElement>(null);
  const formId = useId();
  const introId = useId();

  const create = useCreateWorkspace();
  const credentials = useCredentials();
  const workspaces = useWorkspaces();
  const requestAddCredential = useUiStore((state) => state.requestAddCredential);
  const taken = takenNames(workspaces.data);
  const cloud = provider !== "local";

  const locations = useCloudLocations(provider);
  const locationIds = locations.data?.map((l) => l.id) ?? [];
  const shownLocation = location !== null && locationIds.includes(location) ? location : defaultLocation(provider, locationIds);
  const sizes = useCloudSizes(provider, cloud ? shownLocation : null);
  const sizeList = sizes.data ?? [];
  const shownSize = size !== null && sizeList.some((s) => s.id === size) ? size : defaultSize(sizeList);

  const form: WorkspaceForm = {
    provider,
    repo,
    branch,
    name: name ?? deriveName(repo, taken),
    location: cloud ? shownLocation : null,
    size: cloud ? shownSize : null,
  };
  const problems = attempted ? validateWorkspace(form, taken) : {};
  const isFolder = repo.trim() !== "" && !looksLikeUrl(repo);

  function hasCredential(kind: CredentialKind): boolean {
    return credentials.data?.some((c) => c.kind === kind && c.active) ?? false;
  }

  function pickProvider(next: Provider) {
    setProvider(next);
    setLocation(null);
    setSize(null);
    create.reset();
  }

  function addCredential(kind: CredentialKind) {
    onClose();
    requestAddCredential(kind);
  }

  function close() {
    if (!create.isPending) onClose();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (create.isPending) return;
    setAttempted(true);
    const found = validateWorkspace(form, taken);
    const first = FIELD_ORDER.find((field) => found[field] !== undefined);
    if (first) {
      formRef.current?.querySelector<HTMLElement>(`#${inputId(first)}`)?.focus();
      return;
    }
    create.mutate(specOf(form), { onSuccess: onCreated });
  }

  return (
    <Dialog
      title="New workspace"
      onClose={close}
      initialFocus={repoRef}
      describedBy={introId}
      size="wide"
      data-testid="new-workspace-dialog"
      actions={
        <>
          <Button onClick={close} disabled={create.isPending} data-testid="workspace-cancel">
            Cancel
          </Button>
          <Button type="submit" form={formId} variant="primary" disabled={create.isPending} data-testid="workspace-create">
            {create.isPending ? "Creating…" : "Create workspace"}
          </Button>
        </>
      }
    >
      <p id={introId} className="muted">
        A workspace is where an agent works on your code: a folder on this computer, or a server in your own cloud
        account that SAM creates and deletes for you.
      </p>
      <form ref={formRef} id={formId} className="form" onSubmit={onSubmit} noValidate aria-busy={create.isPending || undefined}>
        {/* Not a flex item itself: WebKit counts a flex-item fieldset's legend twice on first
            layout, and the dialog then shrinks under the pointer on the first click. */}
        <div className="provider-field">
          <fieldset className="fieldset">
            <legend className="field__label">Where it runs</legend>
          <label className="radio">
            <input
              type="radio"
              name="workspace-provider"
              value="local"
              data-testid="workspace-provider-local"
              checked={provider === "local"}
              onChange={() => pickProvider("local")}
            />
            <span>
              {PROVIDER_LABEL.local}
              <span className="muted small"> — a folder here, no account needed</span>
            </span>
          </label>
          {CLOUD.map((option) => {
            const available = hasCredential(option.kind);
            const hintId = `workspace-provider-${option.provider}-hint`;
            return (
              <div key={option.provider} className="provider-option">
                <label className="radio">
                  <input
                    type="radio"
                    name="workspace-provider"
                    value={option.provider}
                    data-testid={`workspace-provider-${option.provider}`}
                    checked={provider === option.provider}
                    disabled={!available}
                    aria-describedby={available ? undefined : hintId}
                    onChange={() => pickProvider(option.provider)}
                  />
                  {PROVIDER_LABEL[option.provider]}
                </label>
                {available ? null : (
                  <p id={hintId} className="provider-option__hint muted small">
                    {credentials.isPending
                      ? "Looking for your cloud accounts…"
                      : `Needs ${option.credential} in Credentials.`}{" "}
                    {credentials.isPending ? null : (
                      <Button
                        variant="ghost"
                        className="button--small"
                        data-testid={`workspace-add-${option.provider}`}
                        onClick={() => addCredential(option.kind)}
                      >
                        Add one
                      </Button>
                    )}
                  </p>
                )}
              </div>
            );
          })}
          </fieldset>
        </div>

        <TextField
          field="repo"
          label="Repository"
          inputRef={repoRef}
          value={repo}
          onChange={setRepo}
          problem={problems.repo}
          placeholder={cloud ? "https://github.com/you/project" : "/home/you/code/project or https://github.com/you/project"}
          hint={
            cloud
              ? "A git URL: the server clones it. GitHub URLs use your GitHub token from Credentials, if you added one."
              : "A git URL to clone, or the full path of a folder on this computer to work in place (SAM never moves or deletes it)."
          }
        />

        <TextField
          field="branch"
          label="Branch"
          optional
          value={branch}
          onChange={setBranch}
          problem={problems.branch}
          disabled={isFolder && branch === ""}
          placeholder="the repository's default"
          hint={isFolder ? "A folder is used on the branch it has checked out." : "Leave empty for the repository's default branch."}
        />

        {cloud ? (
          <>
            <div className="field field--wide">
              <label htmlFor={inputId("location")} className="field__label">
                Location
              </label>
              <CatalogueSelect
                field="location"
                query={locations}
                value={shownLocation}
                onChange={setLocation}
                problem={problems.location}
                loading="Loading locations…"
                context="Could not load the locations"
                options={(locations.data ?? []).map((l) => ({ value: l.id, label: `${l.description} (${l.id}, ${l.country})` }))}
              />
            </div>
            <div className="field field--wide">
              <label htmlFor={inputId("size")} className="field__label">
                Size
              </label>
              <CatalogueSelect
                field="size"
                query={sizes}
                waitingFor={shownLocation === null ? (locations.isPending ? "Loading sizes and prices…" : "Pick a location first") : null}
                value={shownSize}
                onChange={setSize}
                problem={problems.size}
                loading="Loading sizes and prices…"
                context="Could not load the sizes"
                options={sizeList.map((s) => ({ value: s.id, label: sizeLabel(s), disabled: !s.available }))}
              />
              <p className="field__hint muted small">
                Live prices before VAT. The server is billed from creation until you delete the workspace.
              </p>
            </div>
          </>
        ) : null}

        <TextField
          field="name"
          label="Name"
          value={form.name}
          onChange={setName}
          problem={problems.name}
          hint="Lower-case letters, digits and dashes; it names the workspace everywhere in SAM."
        />

        {create.isError ? <ErrorAlert error={create.error} context="Could not create the workspace" compact /> : null}
      </form>
    </Dialog>
  );
}

type TextFieldProps = {
  field: FormField;
  label: string;
  value: string;
  onChange: (value: string) => void;
  problem: string | undefined;
  hint: ReactNode;
  placeholder?: string;
  optional?: boolean;
  disabled?: boolean;
  inputRef?: Ref<HTMLInputElement>;
};

function TextField({ field, label, value, onChange, problem, hint, placeholder, optional, disabled, inputRef }: TextFieldProps) {
  const id = inputId(field);
  return (
    <div className="field field--wide">
      <label htmlFor={id} className="field__label">
        {label}
        {optional ? <span className="muted"> (optional)</span> : null}
      </label>
      <input
        ref={inputRef}
        id={id}
        className="input"
        data-testid={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        placeholder={placeholder}
        disabled={disabled}
        autoComplete="off"
        autoCorrect="off"
        autoCapitalize="off"
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-${problem ? "problem" : "hint"}`}
      />
      {problem ? (
        <p id={`${id}-problem`} className="field__error">
          {problem}
        </p>
      ) : (
        <p id={`${id}-hint`} className="field__hint muted small">
          {hint}
        </p>
      )}
    </div>
  );
}

type CatalogueSelectProps = {
  field: "location" | "size";
  query: { isPending: boolean; isError: boolean; error: Error | null; refetch: () => unknown; isFetching: boolean };
  value: string | null;
  onChange: (value: string) => void;
  problem: string | undefined;
  loading: string;
  context: string;
  options: ReadonlyArray<{ value: string; label: string; disabled?: boolean }>;
  /** Why there is nothing to pick yet (what this select depends on is missing). */
  waitingFor?: string | null;
};

/** A select filled from the provider's live catalogue, with its loading and error states. */
function CatalogueSelect({ field, query, value, onChange, problem, loading, context, options, waitingFor }: CatalogueSelectProps) {
  const id = inputId(field);
  if (waitingFor) {
    return (
      <select id={id} className="select" disabled data-testid={id}>
        <option>{waitingFor}</option>
      </select>
    );
  }
  if (query.isError && query.error) {
    return (
      <>
        <select id={id} className="select" disabled data-testid={id}>
          <option>Not available</option>
        </select>
        <ErrorAlert error={query.error} context={context} compact />
        <div>
          <Button className="button--small" onClick={() => void query.refetch()} disabled={query.isFetching}>
            Try again
          </Button>
        </div>
      </>
    );
  }
  if (query.isPending) {
    return (
      <select id={id} className="select" disabled data-testid={id} aria-busy="true">
        <option>{loading}</option>
      </select>
    );
  }
  return (
    <>
      <select
        id={id}
        className="select"
        data-testid={id}
        value={value ?? ""}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      >
        {value === null ? (
          <option value="" disabled>
            {options.length === 0 ? "None available" : "Pick one"}
          </option>
        ) : null}
        {options.map((option) => (
          <option key={option.value} value={option.value} disabled={option.disabled}>
            {option.label}
          </option>
        ))}
      </select>
      {problem ? (
        <p id={`${id}-problem`} className="field__error">
          {problem}
        </p>
      ) : null}
    </>
  );
}
