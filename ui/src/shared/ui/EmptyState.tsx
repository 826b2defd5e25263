import type { ReactNode } from "react";

type EmptyStateProps = {
  icon?: ReactNode;
  title: string;
  titleId?: string;
  children?: ReactNode;
  actions?: ReactNode;
  compact?: boolean;
  "data-testid"?: string;
};

export function EmptyState({ icon, title, titleId, children, actions, compact = false, ...rest }: EmptyStateProps) {
  return (
    <div className={compact ? "empty-state empty-state--compact" : "empty-state"} data-testid={rest["data-testid"]}>
      {icon ? (
        <div className="empty-state__icon" aria-hidden="true">
          {icon}
        </div>
      ) : null}
      <p className="empty-state__title" id={titleId}>
        {title}
      </p>
      {children ? <div className="empty-state__body">{children}</div> : null}
      {actions ? <div className="empty-state__actions">{actions}</div> : null}
    </div>
  );
}
