import type { ReactNode } from "react";
import { AlertIcon, InfoIcon } from "./icons";

export type BannerTone = "info" | "warning" | "error";

type BannerProps = {
  tone: BannerTone;
  title: string;
  children?: ReactNode;
  /** "alert" for problems that need attention now, "status" for the rest. */
  role?: "alert" | "status";
  compact?: boolean;
  "data-testid"?: string;
};

export function Banner({ tone, title, children, role, compact = false, ...rest }: BannerProps) {
  return (
    <div
      className={`banner banner--${tone}${compact ? " banner--compact" : ""}`}
      role={role ?? (tone === "info" ? "status" : "alert")}
      data-testid={rest["data-testid"]}
    >
      <span className="banner__icon" aria-hidden="true">
        {tone === "info" ? <InfoIcon /> : <AlertIcon />}
      </span>
      <div className="banner__content">
        <p className="banner__title">{title}</p>
        {children ? <div className="banner__body">{children}</div> : null}
      </div>
    </div>
  );
}
