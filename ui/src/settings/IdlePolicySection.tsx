// Settings → Idle cloud workspaces: when a forgotten cloud workspace is deleted (minutes
// without agent activity or desktop contact), how long before that a warning comes, and the
// lifetime after which it goes whatever happens. The core checks every value; a refusal is
// shown as it says, and nothing is saved then.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { idlePolicyGet, idlePolicySet, type IdlePolicy } from "../shared/ipc";
import { Button, ErrorAlert } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

const KEY = ["idle-policy"] as const;

type Field = keyof IdlePolicy;

const FIELDS: { key: Field; label: string; hint: string }[] = [
  { key: "idleMinutes", label: "Delete after (minutes idle)", hint: "2 to 1440" },
  { key: "warnMinutes", label: "Warn before (minutes)", hint: "less than the idle time" },
  { key: "maxLifetimeHours", label: "Maximum lifetime (hours)", hint: "1 to 720" },
];

export function IdlePolicySection() {
  const client = useQueryClient();
  const policy = useQuery({ queryKey: KEY, queryFn: () => idlePolicyGet() });
  const [edits, setEdits] = useState<Partial<Record<Field, string>>>({});
  const [incomplete, setIncomplete] = useState(false);
  const save = useMutation({
    mutationFn: (thresholds: IdlePolicy) => idlePolicySet(thresholds),
    onSuccess: (saved) => {
      client.setQueryData(KEY, saved);
      setEdits({});
    },
  });
  const data = policy.data;
  const shown = (key: Field) => edits[key] ?? (data ? String(data[key]) : "");
  const changed = Object.keys(edits).length > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    const values = FIELDS.map(({ key }) => shown(key).trim().replace(",", "."));
    if (values.some((text) => text === "" || !Number.isFinite(Number(text)))) {
      setIncomplete(true);
      return;
    }
    setIncomplete(false);
    const [idleMinutes, warnMinutes, maxLifetimeHours] = values.map(Number) as [number, number, number];
    save.mutate({ idleMinutes, warnMinutes, maxLifetimeHours });
  }

  return (
    <SettingsSection
      id="idle-policy"
      title="Idle cloud workspaces"
      description="A cloud workspace costs money while it exists. SAM deletes one nobody uses (no agent working, no window open on it), warning first, and any that reaches its maximum lifetime. Workspaces on this computer are never deleted for this."
    >
      {data ? (
        <p data-testid="idle-policy-summary">
          Deleted after {data.idleMinutes} minutes idle, warned {data.warnMinutes} minutes before; at most {data.maxLifetimeHours} hours
          old.
        </p>
      ) : null}
      <form className="field" onSubmit={submit} aria-label="Idle policy" noValidate>
        {FIELDS.map(({ key, label, hint }) => (
          <div className="field" key={key}>
            <label htmlFor={`idle-policy-${key}`} className="field__label">
              {label}
            </label>
            <input
              id={`idle-policy-${key}`}
              className="input"
              inputMode="numeric"
              data-testid={`idle-policy-${key}`}
              value={shown(key)}
              disabled={!data}
              onChange={(event) => setEdits((current) => ({ ...current, [key]: event.target.value }))}
              aria-describedby={`idle-policy-${key}-hint`}
            />
            <p id={`idle-policy-${key}-hint`} className="field__hint muted small">
              {hint}
            </p>
          </div>
        ))}
        <Button type="submit" className="button--small" data-testid="idle-policy-save" disabled={!data || save.isPending || !changed}>
          Save
        </Button>
      </form>
      {incomplete ? (
        <p role="alert" className="field__error" data-testid="idle-policy-incomplete">
          Enter a number in each field.
        </p>
      ) : null}
      {policy.isError ? <ErrorAlert error={policy.error} context="Could not read the idle policy" compact /> : null}
      {save.isError ? <ErrorAlert error={save.error} context="Could not save the idle policy" compact /> : null}
    </SettingsSection>
  );
}
