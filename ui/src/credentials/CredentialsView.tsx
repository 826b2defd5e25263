import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { CredentialKind, CredentialSummary, KindInfo } from "../shared/ipc";
import { useCredentialKinds, useCredentials } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { Button, CloudIcon, EmptyState, ErrorAlert, KeyIcon, PlusIcon } from "../shared/ui";
import { AddCredentialForm } from "./AddCredentialForm";
import { CredentialRow } from "./CredentialRow";
import { RemoveDialog } from "./RemoveDialog";
import { GROUPS, kindLabel, STATUS, useNow, type GroupInfo } from "./format";

type FormState = { kind: CredentialKind | null; key: number };

export function CredentialsView() {
  const credentials = useCredentials();
  const kinds = useCredentialKinds();
  const requestedKind = useUiStore((state) => state.addCredentialKind);
  const clearRequest = useUiStore((state) => state.clearAddCredentialRequest);
  const [form, setForm] = useState<FormState | null>(null);
  const [removing, setRemoving] = useState<CredentialSummary | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const addButtonRef = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLElement | null>(null);
  const restoreFocus = useRef(false);
  const now = useNow();

  function openForm(kind: CredentialKind | null) {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setAnnouncement("");
    setForm((previous) => ({ kind, key: (previous?.key ?? 0) + 1 }));
  }

  function closeForm() {
    restoreFocus.current = true;
    setForm(null);
  }

  // Requests from elsewhere (the sidebar's onboarding) to open the form with a kind.
  useEffect(() => {
    if (!requestedKind) return;
    openForm(requestedKind);
    clearRequest();
  }, [requestedKind, clearRequest]);

  useEffect(() => {
    if (form !== null || !restoreFocus.current) return;
    restoreFocus.current = false;
    const target = opener.current?.isConnected ? opener.current : addButtonRef.current;
    target?.focus();
  }, [form]);

  function onAdded(summary: CredentialSummary) {
    setAnnouncement(`Added “${summary.label}”: ${STATUS[summary.lastCheck].label.toLowerCase()}.`);
    closeForm();
  }

  function onRemoved(credential: CredentialSummary) {
    setAnnouncement(`Removed “${credential.label}”.`);
    setRemoving(null);
  }

  // Escape closes the form first; only then does it leave the view (see useShortcuts).
  function onKeyDown(event: KeyboardEvent<HTMLElement>) {
    if (event.key !== "Escape" || event.defaultPrevented || form === null) return;
    event.preventDefault();
    closeForm();
  }

  const list = credentials.data;
  const kindList = kinds.data;

  return (
    <section className="view" aria-labelledby="credentials-heading" data-testid="credentials-view" onKeyDown={onKeyDown}>
      <header className="view__header">
        <h1 id="credentials-heading" className="view__title">
          Credentials
        </h1>
        <div className="view__header-actions">
          <p className="view__hint muted small">Press Escape to go back to the chat.</p>
          <Button
            ref={addButtonRef}
            variant="primary"
            data-testid="add-credential"
            onClick={() => (form === null ? openForm(null) : document.getElementById("credential-kind")?.focus())}
            aria-expanded={form !== null}
            disabled={!kindList}
          >
            <PlusIcon /> Add credential
          </Button>
        </div>
      </header>
      <div className="view__body credentials">
        <p className="sr-only" role="status" aria-live="polite" data-testid="credentials-announcement">
          {announcement}
        </p>
        {form !== null && kindList ? (
          <AddCredentialForm key={form.key} kinds={kindList} initialKind={form.kind} onCancel={closeForm} onAdded={onAdded} />
        ) : null}
        {credentials.isError ? (
          <ErrorAlert error={credentials.error} context="Could not load credentials" />
        ) : kinds.isError ? (
          <ErrorAlert error={kinds.error} context="Could not load the kinds of credential" />
        ) : !list || !kindList ? (
          <p className="muted" role="status">
            Loading credentials…
          </p>
        ) : list.length === 0 ? (
          form === null ? (
            <CredentialsEmpty onAdd={openForm} />
          ) : null
        ) : (
          <>
            <p className="muted credentials__intro">
              Keys stay in your operating system's keyring; SAM shows only their last characters.
            </p>
            {GROUPS.map((group) => (
              <CredentialGroupSection
                key={group.group}
                group={group}
                kinds={kindList}
                credentials={list.filter((credential) => groupOf(kindList, credential.kind) === group.group)}
                now={now}
                onAdd={openForm}
                onRemove={setRemoving}
              />
            ))}
          </>
        )}
        {removing ? (
          <RemoveDialog
            credential={removing}
            kindLabel={kindLabel(kindList ?? [], removing.kind)}
            onCancel={() => setRemoving(null)}
            onRemoved={onRemoved}
            fallbackFocus={() => addButtonRef.current}
          />
        ) : null}
      </div>
    </section>
  );
}

function groupOf(kinds: readonly KindInfo[], kind: CredentialKind) {
  return kinds.find((info) => info.kind === kind)?.group ?? "agent";
}

function firstKindOf(kinds: readonly KindInfo[], group: GroupInfo["group"]): CredentialKind | null {
  return kinds.find((info) => info.group === group)?.kind ?? null;
}

type CredentialGroupSectionProps = {
  group: GroupInfo;
  kinds: readonly KindInfo[];
  credentials: CredentialSummary[];
  now: number;
  onAdd: (kind: CredentialKind | null) => void;
  onRemove: (credential: CredentialSummary) => void;
};

function CredentialGroupSection({ group, kinds, credentials, now, onAdd, onRemove }: CredentialGroupSectionProps) {
  const headingId = `credentials-group-${group.group}`;
  return (
    <section className="credentials__group" aria-labelledby={headingId} data-testid={`credential-group-${group.group}`}>
      <h2 id={headingId} className="credentials__group-title">
        {group.title}
      </h2>
      {credentials.length === 0 ? (
        <div className="credentials__group-empty">
          <p className="muted small">{group.empty}</p>
          <Button variant="ghost" className="button--small" onClick={() => onAdd(firstKindOf(kinds, group.group))}>
            <PlusIcon /> {group.addLabel}
          </Button>
        </div>
      ) : (
        <ul className="credentials__list">
          {credentials.map((credential) => (
            <CredentialRow
              key={credential.id}
              credential={credential}
              kindLabel={kindLabel(kinds, credential.kind)}
              now={now}
              onRemove={onRemove}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function CredentialsEmpty({ onAdd }: { onAdd: (kind: CredentialKind) => void }) {
  return (
    <EmptyState
      icon={<KeyIcon width={28} height={28} />}
      title="No credentials yet"
      data-testid="credentials-empty"
      actions={
        <>
          <Button variant="primary" data-testid="empty-add-cloud" onClick={() => onAdd("hetzner_token")}>
            <CloudIcon /> Add a cloud account
          </Button>
          <Button data-testid="empty-add-agent" onClick={() => onAdd("anthropic_api_key")}>
            <KeyIcon /> Add an agent key
          </Button>
        </>
      }
    >
      <p>
        Add the cloud account your VMs run on and the API keys of the agents you use. Each key goes straight into your
        operating system's keyring: SAM never writes it to a file and never shows it again, only its last characters.
      </p>
    </EmptyState>
  );
}
