import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode } from "react";
import type { CredentialKind, CredentialScope, CredentialSummary, KindField, KindInfo } from "../shared/ipc";
import { useAddCredential, useOpenConsole } from "../shared/queries";
import { Button, ErrorAlert } from "../shared/ui";
import { GROUPS, PROVIDER } from "./format";

type AddCredentialFormProps = {
  kinds: readonly KindInfo[];
  /** The kind shown first; the first kind the core lists when null. */
  initialKind: CredentialKind | null;
  onCancel: () => void;
  onAdded: (summary: CredentialSummary) => void;
};

/** Client-side problems, by input: a KindField id, or LABEL / PROJECT. */
type Problems = Partial<Record<string, string>>;
const LABEL = "\u0000label";
const PROJECT = "\u0000project";

export const EMPTY_SECRET_MESSAGE = "Paste the key; it is empty.";

function inputId(fieldId: string): string {
  return `credential-field-${fieldId}`;
}

/** Backquoted parts of a hint (`claude setup-token`) render as code. */
function renderHint(hint: string): ReactNode[] {
  return hint.split(/`([^`]+)`/).map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part));
}

/**
 * The add form. The KindField inputs are uncontrolled: a secret lives only in its DOM input (never
 * in React state, never in a `value` attribute) until Save reads it, and it goes away with the
 * form.
 */
export function AddCredentialForm({ kinds, initialKind, onCancel, onAdded }: AddCredentialFormProps) {
  const [kind, setKind] = useState<CredentialKind | undefined>(() =>
    kinds.some((info) => info.kind === initialKind) ? (initialKind ?? undefined) : kinds[0]?.kind,
  );
  const info = kinds.find((candidate) => candidate.kind === kind);
  // null: follow the kind's label until the user types their own.
  const [label, setLabel] = useState<string | null>(null);
  const [scope, setScope] = useState<CredentialScope["scope"]>("global");
  const [project, setProject] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const add = useAddCredential();
  const openConsole = useOpenConsole();
  const formRef = useRef<HTMLFormElement>(null);
  const kindRef = useRef<HTMLSelectElement>(null);
  const headingId = useId();
  const hintId = useId();

  useEffect(() => {
    kindRef.current?.focus();
  }, []);

  if (!info) {
    return (
      <section className="card credential-form" aria-labelledby={headingId}>
        <h2 id={headingId} className="card__title">
          Add a credential
        </h2>
        <p className="muted">SAM's core offered no kinds of credential.</p>
        <div className="inline-row">
          <Button onClick={onCancel}>Close</Button>
        </div>
      </section>
    );
  }
  const current = info;
  const shownLabel = label ?? current.label;

  function onKindChange(event: ChangeEvent<HTMLSelectElement>) {
    const next = kinds.find((candidate) => candidate.kind === event.target.value);
    if (!next) return;
    setKind(next.kind);
    setProblems({});
    add.reset();
    openConsole.reset();
  }

  function clearProblem(key: string) {
    if (problems[key] === undefined) return;
    setProblems(({ [key]: _removed, ...rest }) => rest);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (add.isPending) return;
    const data = new FormData(event.currentTarget);
    const found: Problems = {};
    const fields: Record<string, string> = {};

    if (shownLabel.trim() === "") found[LABEL] = "Give it a name.";
    if (scope === "project" && project.trim() === "") found[PROJECT] = "Name the project.";
    for (const field of current.fields) {
      const raw = data.get(inputId(field.id));
      const text = typeof raw === "string" ? raw : "";
      // Whitespace around a single-line key is never part of it (pasting often adds some).
      const value = field.multiline ? text : text.trim();
      if (value.trim() === "") {
        if (!field.optional) found[field.id] = field.secret ? EMPTY_SECRET_MESSAGE : "This is required.";
        continue;
      }
      fields[field.id] = value;
    }

    setProblems(found);
    const firstProblem = [LABEL, PROJECT, ...current.fields.map((field) => field.id)].find((key) => found[key]);
    if (firstProblem) {
      const id = firstProblem === LABEL ? "credential-label" : firstProblem === PROJECT ? "credential-project" : inputId(firstProblem);
      formRef.current?.querySelector<HTMLElement>(`#${id}`)?.focus();
      return;
    }

    add.mutate(
      {
        kind: current.kind,
        label: shownLabel.trim(),
        scope: scope === "global" ? { scope: "global" } : { scope: "project", project: project.trim() },
        fields,
      },
      {
        onSuccess: (summary) => {
          for (const element of formRef.current?.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("[data-secret]") ?? []) {
            element.value = "";
          }
          add.reset();
          onAdded(summary);
        },
      },
    );
  }

  return (
    <section className="card credential-form" aria-labelledby={headingId} data-testid="credential-form">
      <h2 id={headingId} className="card__title">
        Add a credential
      </h2>
      <p className="card__description muted">
        The key goes straight to your operating system's keyring. SAM checks it with the provider and never shows it
        again.
      </p>
      <form ref={formRef} className="form" onSubmit={onSubmit} noValidate aria-busy={add.isPending || undefined}>
        <div className="field field--wide">
          <label htmlFor="credential-kind" className="field__label">
            Kind
          </label>
          <select
            ref={kindRef}
            id="credential-kind"
            className="select"
            data-testid="credential-kind"
            value={current.kind}
            onChange={onKindChange}
            aria-describedby={hintId}
          >
            {GROUPS.map((group) => {
              const options = kinds.filter((candidate) => candidate.group === group.group);
              if (options.length === 0) return null;
              return (
                <optgroup key={group.group} label={group.title}>
                  {options.map((option) => (
                    <option key={option.kind} value={option.kind}>
                      {option.label}
                    </option>
                  ))}
                </optgroup>
              );
            })}
          </select>
          <div className="credential-form__hint">
            <p id={hintId} className="field__hint muted small">
              {renderHint(current.hint)}
            </p>
            <Button
              variant="ghost"
              className="button--small"
              data-testid="credential-console"
              onClick={() => openConsole.mutate(current.kind)}
            >
              Where do I get this?
            </Button>
          </div>
          {openConsole.isError ? (
            <p className="field__error" role="alert">
              Could not open the browser: {openConsole.error.message}
            </p>
          ) : null}
        </div>

        {current.fields.map((field) => (
          <KindFieldInput
            key={`${current.kind}.${field.id}`}
            field={field}
            problem={problems[field.id]}
            onEdit={() => clearProblem(field.id)}
          />
        ))}

        <div className="field field--wide">
          <label htmlFor="credential-label" className="field__label">
            Name
          </label>
          <input
            id="credential-label"
            className="input"
            data-testid="credential-label"
            value={shownLabel}
            onChange={(event) => {
              setLabel(event.target.value);
              clearProblem(LABEL);
            }}
            aria-invalid={problems[LABEL] ? true : undefined}
            aria-describedby={problems[LABEL] ? "credential-label-problem" : "credential-label-hint"}
            autoComplete="off"
          />
          {problems[LABEL] ? (
            <p id="credential-label-problem" className="field__error">
              {problems[LABEL]}
            </p>
          ) : (
            <p id="credential-label-hint" className="field__hint muted small">
              How it appears in SAM, e.g. "Personal Hetzner" or "Work Anthropic".
            </p>
          )}
        </div>

        <fieldset className="field field--wide fieldset">
          <legend className="field__label">Used by</legend>
          <label className="radio">
            <input
              type="radio"
              name="credential-scope"
              value="global"
              data-testid="credential-scope-global"
              checked={scope === "global"}
              onChange={() => {
                setScope("global");
                clearProblem(PROJECT);
              }}
            />
            Global: every project
          </label>
          <label className="radio">
            <input
              type="radio"
              name="credential-scope"
              value="project"
              data-testid="credential-scope-project"
              checked={scope === "project"}
              onChange={() => setScope("project")}
            />
            One project only
          </label>
          {scope === "project" ? (
            <div className="field field--nested">
              <label htmlFor="credential-project" className="field__label">
                Project name
              </label>
              <input
                id="credential-project"
                className="input"
                data-testid="credential-project"
                value={project}
                onChange={(event) => {
                  setProject(event.target.value);
                  clearProblem(PROJECT);
                }}
                aria-invalid={problems[PROJECT] ? true : undefined}
                aria-describedby={problems[PROJECT] ? "credential-project-problem" : undefined}
                autoComplete="off"
              />
              {problems[PROJECT] ? (
                <p id="credential-project-problem" className="field__error">
                  {problems[PROJECT]}
                </p>
              ) : null}
            </div>
          ) : null}
        </fieldset>

        {add.isError ? <ErrorAlert error={add.error} context="Could not add the credential" compact /> : null}

        <div className="inline-row">
          <Button type="submit" variant="primary" data-testid="credential-save" disabled={add.isPending}>
            Save
          </Button>
          <Button data-testid="credential-cancel" onClick={onCancel}>
            Cancel
          </Button>
          {add.isPending ? (
            <p className="muted" role="status" data-testid="credential-saving">
              Checking with {PROVIDER[current.kind]}…
            </p>
          ) : null}
        </div>
      </form>
    </section>
  );
}

type KindFieldInputProps = { field: KindField; problem: string | undefined; onEdit: () => void };

function KindFieldInput({ field, problem, onEdit }: KindFieldInputProps) {
  const id = inputId(field.id);
  const problemId = `${id}-problem`;
  const common = {
    id,
    name: id,
    "data-testid": id,
    placeholder: field.placeholder,
    autoComplete: "off",
    autoCorrect: "off",
    autoCapitalize: "off",
    spellCheck: false,
    onChange: onEdit,
    "aria-invalid": problem ? true : undefined,
    "aria-describedby": problem ? problemId : undefined,
    "aria-required": field.optional ? undefined : true,
    "data-secret": field.secret ? "true" : undefined,
  } as const;

  return (
    <div className="field field--wide">
      <label htmlFor={id} className="field__label">
        {field.label}
        {field.optional ? <span className="muted"> (optional)</span> : null}
      </label>
      {field.multiline ? (
        <textarea {...common} className={field.secret ? "input textarea input--secret" : "input textarea"} rows={5} />
      ) : (
        <input {...common} className="input" type={field.secret ? "password" : "text"} />
      )}
      {problem ? (
        <p id={problemId} className="field__error">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
