import { useAppInfo } from "../shared/queries";
import { Banner } from "../shared/ui";

/** Shown when the core had to recover its database or could not open it. */
export function DatabaseBanner() {
  const { data } = useAppInfo();
  const database = data?.database;
  if (!database || database.state === "ok") return null;

  if (database.state === "recovered") {
    return (
      <Banner tone="warning" title="SAM recovered its database" data-testid="db-banner">
        <p>{database.message}</p>
        <p>
          The previous database was kept as a backup at <code className="path">{database.backupPath}</code>
        </p>
      </Banner>
    );
  }

  return (
    <Banner tone="error" title="SAM's database is unavailable" data-testid="db-banner">
      <p>{database.message}</p>
      {database.backupPath ? (
        <p>
          A backup is at <code className="path">{database.backupPath}</code>
        </p>
      ) : null}
    </Banner>
  );
}
