import type { AppInfo } from "../shared/ipc";
import { useAppInfo } from "../shared/queries";
import { ErrorAlert, LogoMark } from "../shared/ui";

export function AboutView() {
  const info = useAppInfo();

  return (
    <section className="view" aria-labelledby="about-heading" data-testid="about-view">
      <header className="view__header">
        <h1 id="about-heading" className="view__title">
          About
        </h1>
        <p className="view__hint muted small">Press Escape to go back to the chat.</p>
      </header>
      <div className="view__body">
        {info.isPending ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : info.isError ? (
          <ErrorAlert error={info.error} context="Could not read app information" />
        ) : (
          <AboutDetails info={info.data} />
        )}
      </div>
    </section>
  );
}

function AboutDetails({ info }: { info: AppInfo }) {
  return (
    <div className="card about">
      <div className="about__identity">
        <LogoMark width={40} height={40} className="logo-mark" />
        <div>
          <p className="about__name">{info.name}</p>
          <p className="muted small">Run AI coding agents on machines you own.</p>
        </div>
      </div>
      <dl className="details">
        <dt>Version</dt>
        <dd data-testid="about-version">{info.version}</dd>
        <dt>Platform</dt>
        <dd>{info.platform}</dd>
        <dt>Data directory</dt>
        <dd>
          <code className="path">{info.dataDir}</code>
        </dd>
        <dt>Log directory</dt>
        <dd>
          <code className="path">{info.logDir}</code>
        </dd>
        <dt>System tray</dt>
        <dd>
          {info.trayAvailable ? (
            "Available"
          ) : (
            <>
              <span>Not available</span>
              <p className="muted small">
                The <code>libayatana-appindicator3-1</code> library is missing, so SAM runs without a tray icon. Install
                it with your package manager and restart SAM to get one.
              </p>
            </>
          )}
        </dd>
      </dl>
    </div>
  );
}
