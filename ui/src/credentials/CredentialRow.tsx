import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { CredentialSummary } from "../shared/ipc";
import { useCheckCredential, useRenameCredential, useSetCredentialActive } from "../shared/queries";
import { Button, ErrorAlert } from "../shared/ui";
import { relativeTime, scopeLabel, STATUS } from "./format";

type CredentialRowProps = {
  credential: CredentialSummary;
  kindLabel: string;
  now: number;
  onRemove: (credential: CredentialSummary) => void;
};

export function CredentialRow({ credential, kindLabel, now, onRemove }: CredentialRowProps) {
  const check = useCheckCredential();
  const setActive = useSetCredentialActive();
  const [editing, setEditing] = useState(false);
  const renameButtonRef = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  const status = STATUS[credential.lastCheck];

  useEffect(() => {
    if (!editing && returnFocus.current) {
      returnFocus.current = false;
      renameButtonRef.current?.focus();
    }
  }, [editing]);

  function stopEditing() {
    returnFocus.current = true;
    setEditing(false);
  }

  const checkedAt = credential.lastCheckedAt;
  const usedBy = credential.usedBy;

  return (
    <li
      className={credential.active ? "credential" : "credential credential--inactive"}
      data-testid="credential-row"
      data-label={credential.label}
    >
      <div className="credential__main">
        <div className="credential__title">
          {editing ? (
            <RenameForm credential={credential} onDone={stopEditing} />
          ) : (
            <h3 className="credential__label">
              {credential.label}
            </h3>
          )}
          {credential.active ? null : (
            <span className="status-tag status-tag--neutral" data-testid="credential-inactive">
              Inactive
            </span>
          )}
        </div>
        <p className="credential__meta muted small">
          <span>{kindLabel}</span>
          <span aria-hidden="true"> · </span>
          <span data-testid="credential-scope">{scopeLabel(credential.scope)}</span>
          <span aria-hidden="true"> · </span>
          <span className="sr-only">Key ending </span>
          <code className="credential__masked" data-testid="credential-masked">
            {credential.masked}
          </code>
        </p>
        <p className="credential__status small">
          <span className={`status-tag status-tag--${status.tone}`} data-testid="credential-status">
            {status.label}
          </span>
          {credential.lastMessage ? (
            <span className="credential__message" data-testid="credential-message">
              {credential.lastMessage}
            </span>
          ) : null}
          {checkedAt !== null ? (
            <span className="muted" data-testid="credential-checked-at">
              checked{" "}
              <time dateTime={new Date(checkedAt * 1000).toISOString()} title={new Date(checkedAt * 1000).toLocaleString()}>
                {relativeTime(checkedAt, now)}
              </time>
            </span>
          ) : null}
        </p>
        {usedBy.length > 0 ? (
          <p className="muted small" data-testid="credential-used-by">
            Used by {usedBy.join(", ")}
          </p>
        ) : null}
      </div>
      <div className="credential__actions" role="group" aria-label={`Actions for ${credential.label}`}>
        <Button
          className="button--small"
          data-testid="credential-check"
          onClick={() => check.mutate(credential.id)}
          disabled={check.isPending}
        >
          {check.isPending ? "Checking…" : "Check"} <span className="sr-only">{credential.label}</span>
        </Button>
        <Button
          ref={renameButtonRef}
          className="button--small"
          data-testid="credential-rename"
          onClick={() => setEditing(true)}
          disabled={editing}
        >
          Rename <span className="sr-only">{credential.label}</span>
        </Button>
        <Button
          className="button--small"
          data-testid="credential-toggle-active"
          onClick={() => setActive.mutate({ id: credential.id, active: !credential.active })}
          disabled={setActive.isPending}
          title={credential.active ? "Keep it stored, but stop SAM from using it" : "Let SAM use it again"}
        >
          {setActive.isPending ? (credential.active ? "Deactivating…" : "Activating…") : credential.active ? "Deactivate" : "Activate"}{" "}
          <span className="sr-only">{credential.label}</span>
        </Button>
        <Button className="button--small button--danger-text" data-testid="credential-remove" onClick={() => onRemove(credential)}>
          Remove <span className="sr-only">{credential.label}</span>
        </Button>
      </div>
      {check.isError ? (
        <div className="credential__error">
          <ErrorAlert error={check.error} context="Could not check it" compact />
        </div>
      ) : null}
      {setActive.isError ? (
        <div className="credential__error">
          <ErrorAlert error={setActive.error} context={credential.active ? "Could not deactivate it" : "Could not activate it"} compact />
        </div>
      ) : null}
    </li>
  );
}

function RenameForm({ credential, onDone }: { credential: CredentialSummary; onDone: () => void }) {
  const rename = useRenameCredential();
  const [value, setValue] = useState(credential.label);
  const [problem, setProblem] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const problemId = useId();

  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, []);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const label = value.trim();
    if (label === "") {
      setProblem("Give it a name.");
      inputRef.current?.focus();
      return;
    }
    if (label === credential.label) {
      onDone();
      return;
    }
    rename.mutate({ id: credential.id, label }, { onSuccess: onDone });
  }

  function onKeyDown(event: KeyboardEvent<HTMLFormElement>) {
    if (event.key !== "Escape") return;
    // Handled here: neither the add form nor the view should close.
    event.preventDefault();
    event.stopPropagation();
    if (!rename.isPending) onDone();
  }

  return (
    <form className="rename" onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate>
      <label htmlFor={inputId} className="sr-only">
        New name for {credential.label}
      </label>
      <input
        ref={inputRef}
        id={inputId}
        className="input input--compact"
        data-testid="credential-rename-input"
        value={value}
        onChange={(event) => {
          setValue(event.target.value);
          setProblem(null);
        }}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? problemId : undefined}
        autoComplete="off"
        disabled={rename.isPending}
      />
      <Button type="submit" variant="primary" className="button--small" data-testid="credential-rename-save" disabled={rename.isPending}>
        {rename.isPending ? "Saving…" : "Save"}
      </Button>
      <Button className="button--small" onClick={onDone} disabled={rename.isPending}>
        Cancel
      </Button>
      {problem ? (
        <p id={problemId} className="field__error rename__problem">
          {problem}
        </p>
      ) : null}
      {rename.isError ? (
        <div className="rename__problem">
          <ErrorAlert error={rename.error} context="Could not rename it" compact />
        </div>
      ) : null}
    </form>
  );
}
