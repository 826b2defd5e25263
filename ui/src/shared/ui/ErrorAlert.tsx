import { IpcError, type ErrorCode } from "../ipc";
import { Banner } from "./Banner";

function titleFor(code: ErrorCode): string {
  switch (code) {
    case "unavailable":
      return "SAM's core is unavailable";
    case "database":
      return "Database error";
    case "not_found":
      return "Not found";
    case "invalid_input":
      return "Invalid input";
    case "io":
      return "File system error";
    case "internal":
      return "Something went wrong";
  }
}

type ErrorAlertProps = {
  error: Error;
  /** What was being attempted, e.g. "Could not load workspaces". */
  context?: string;
  compact?: boolean;
};

/** Inline alert for an error thrown by shared/ipc.ts. */
export function ErrorAlert({ error, context, compact }: ErrorAlertProps) {
  const code: ErrorCode = error instanceof IpcError ? error.code : "internal";
  const title = context ? `${context}: ${titleFor(code).toLowerCase()}` : titleFor(code);
  return (
    <Banner tone="error" title={title} compact={compact}>
      <p>{error.message}</p>
    </Banner>
  );
}
