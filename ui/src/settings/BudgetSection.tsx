// Settings → Cloud spending: what cloud workspaces cost this month, and an optional monthly
// budget. Once it is used up, new cloud workspaces are refused (running ones keep going: the idle
// policy deletes forgotten ones); 50 %, 80 % and 100 % notify.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { budgetGet, budgetSet } from "../shared/ipc";
import { Button, ErrorAlert } from "../shared/ui";
import { formatPrice } from "../workspaces/format";
import { SettingsSection } from "./SettingsSection";

const KEY = ["budget"] as const;

export function BudgetSection() {
  const client = useQueryClient();
  const status = useQuery({ queryKey: KEY, queryFn: () => budgetGet(), refetchInterval: 60_000 });
  const save = useMutation({
    mutationFn: (limit: number | null) => budgetSet(limit),
    onSuccess: (saved) => {
      client.setQueryData(KEY, saved);
      setText(null);
    },
  });
  const [text, setText] = useState<string | null>(null);
  const data = status.data;
  const shown = text ?? (data?.limit != null ? String(data.limit) : "");
  const currency = data?.currency ?? "EUR";

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = Number(shown.replace(",", "."));
    save.mutate(shown.trim() === "" ? null : value);
  }

  return (
    <SettingsSection id="budget" title="Cloud spending" description="What cloud workspaces cost this calendar month, estimated from their hourly prices.">
      {data ? (
        <p data-testid="budget-spent">
          {formatPrice(data.spent, currency, 2)} this month
          {data.limit != null ? ` of ${formatPrice(data.limit, currency, 2)} (${data.percent ?? 0}%)` : ""}
        </p>
      ) : null}
      {data && data.limit != null && (data.percent ?? 0) >= 100 ? (
        <p role="status" className="field__error" data-testid="budget-exhausted">
          The budget is used up: new cloud workspaces are refused until you raise it or the month ends.
        </p>
      ) : null}
      <form className="field" onSubmit={submit}>
        <label htmlFor="budget-limit" className="field__label">
          Monthly budget ({currency})
        </label>
        <input
          id="budget-limit"
          className="input"
          inputMode="decimal"
          data-testid="budget-limit"
          value={shown}
          placeholder="No budget"
          onChange={(event) => setText(event.target.value)}
          aria-describedby="budget-hint"
        />
        <p id="budget-hint" className="field__hint muted small">
          Leave it empty for no budget. Notifications at 50 %, 80 % and 100 %.
        </p>
        <Button type="submit" className="button--small" disabled={!data || save.isPending || text === null}>
          Save
        </Button>
      </form>
      {status.isError ? <ErrorAlert error={status.error} context="Could not read this month's spending" compact /> : null}
      {save.isError ? <ErrorAlert error={save.error} context="Could not save the budget" compact /> : null}
    </SettingsSection>
  );
}
