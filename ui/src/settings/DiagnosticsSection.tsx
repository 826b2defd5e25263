import type { CheckStatus, DoctorCheck } from "../shared/ipc";
import { useDoctor } from "../shared/queries";
import { AlertIcon, Button, CheckIcon, ErrorAlert, ErrorIcon } from "../shared/ui";
import { SettingsSection } from "./SettingsSection";

const STATUS_LABEL: Record<CheckStatus, string> = { ok: "OK", warning: "Warning", error: "Error" };

function StatusIcon({ status }: { status: CheckStatus }) {
  switch (status) {
    case "ok":
      return <CheckIcon />;
    case "warning":
      return <AlertIcon />;
    case "error":
      return <ErrorIcon />;
  }
}

function summarize(checks: DoctorCheck[]): string {
  const warnings = checks.filter((check) => check.status === "warning").length;
  const errors = checks.filter((check) => check.status === "error").length;
  if (warnings === 0 && errors === 0) return `All ${checks.length} checks passed.`;
  const parts: string[] = [];
  if (errors > 0) parts.push(`${errors} ${errors === 1 ? "error" : "errors"}`);
  if (warnings > 0) parts.push(`${warnings} ${warnings === 1 ? "warning" : "warnings"}`);
  return `${parts.join(", ")} found.`;
}

export function DiagnosticsSection() {
  const doctor = useDoctor();

  return (
    <SettingsSection
      id="diagnostics"
      title="Diagnostics"
      description="Checks that SAM's core, its database and your desktop integration work."
    >
      {doctor.isPending ? (
        <p className="muted" role="status">
          Running checks…
        </p>
      ) : doctor.isError ? (
        <ErrorAlert error={doctor.error} context="Could not run the checks" compact />
      ) : (
        <>
          <p className="doctor__summary" role="status">
            {summarize(doctor.data.checks)}
          </p>
          <ul className="doctor" data-testid="doctor-report">
            {doctor.data.checks.map((check) => (
              <li key={check.id} className={`doctor__check doctor__check--${check.status}`}>
                <span className="doctor__icon" aria-hidden="true">
                  <StatusIcon status={check.status} />
                </span>
                <div className="doctor__text">
                  <p className="doctor__label">
                    {check.label} <span className={`status-tag status-tag--${check.status}`}>{STATUS_LABEL[check.status]}</span>
                  </p>
                  <p className="doctor__detail muted">{check.detail}</p>
                  {check.fix ? (
                    <p className="doctor__fix">
                      <strong>Fix:</strong> {check.fix}
                    </p>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="inline-row">
        <Button onClick={() => void doctor.refetch()} disabled={doctor.isFetching}>
          {doctor.isFetching ? "Checking…" : "Run checks again"}
        </Button>
      </div>
    </SettingsSection>
  );
}
