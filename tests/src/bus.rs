//! Real D-Bus services on the session bus that record what the app sends: the freedesktop
//! notification server and the StatusNotifierWatcher a tray host provides.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use zbus::zvariant::OwnedValue;

/// One `Notify` call as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedNotification {
    /// The id the server answered with (a replacement keeps the id it replaced).
    pub id: u32,
    pub replaces_id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

/// One `RegisterStatusNotifierItem` call: the caller's unique bus name and its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredItem {
    pub sender: String,
    pub service: String,
}

impl RegisteredItem {
    /// The (bus name, object path) where the item lives, per the StatusNotifierItem spec: the
    /// argument is either an object path on the caller's connection or a bus name.
    pub fn address(&self) -> (String, String) {
        if self.service.starts_with('/') {
            (self.sender.clone(), self.service.clone())
        } else {
            (self.service.clone(), "/StatusNotifierItem".to_owned())
        }
    }
}

#[derive(Debug, Default)]
struct Recorded {
    notifications: Vec<ReceivedNotification>,
    /// Ids the app asked the server to close, in order.
    closed: Vec<u32>,
    items: Vec<RegisteredItem>,
}

struct NotificationServer {
    recorded: Arc<Mutex<Recorded>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into(), "persistence".into()]
    }

    #[allow(clippy::too_many_arguments, reason = "the D-Bus method's signature")]
    fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut recorded = self
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = if replaces_id > 0 {
            replaces_id
        } else {
            u32::try_from(recorded.notifications.len() + 1).unwrap_or(u32::MAX)
        };
        recorded.notifications.push(ReceivedNotification {
            id,
            replaces_id,
            app_name,
            summary,
            body,
            actions,
        });
        id
    }

    fn close_notification(&self, id: u32) {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .closed
            .push(id);
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("sam-e2e".into(), "sam".into(), "1.0".into(), "1.2".into())
    }
}

struct StatusNotifierWatcher {
    recorded: Arc<Mutex<Recorded>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl StatusNotifierWatcher {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .items
            .push(RegisteredItem { sender, service });
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .items
            .iter()
            .map(|i| i.service.clone())
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// The desktop's services, live on the session bus while this value lives.
pub struct DesktopServices {
    connection: zbus::Connection,
    recorded: Arc<Mutex<Recorded>>,
}

impl std::fmt::Debug for DesktopServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopServices").finish_non_exhaustive()
    }
}

impl DesktopServices {
    /// Claims `org.freedesktop.Notifications` and `org.kde.StatusNotifierWatcher`.
    pub async fn start() -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "no session bus: run the end-to-end suite under dbus-run-session (scripts/test.sh e2e does)"
        );
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let connection = zbus::connection::Builder::session()?
            .name("org.freedesktop.Notifications")?
            .name("org.kde.StatusNotifierWatcher")?
            .serve_at(
                "/org/freedesktop/Notifications",
                NotificationServer {
                    recorded: Arc::clone(&recorded),
                },
            )?
            .serve_at(
                "/StatusNotifierWatcher",
                StatusNotifierWatcher {
                    recorded: Arc::clone(&recorded),
                },
            )?
            .build()
            .await
            .context("claiming the notification and tray-watcher names on the session bus")?;
        Ok(Self {
            connection,
            recorded,
        })
    }

    pub fn connection(&self) -> &zbus::Connection {
        &self.connection
    }

    fn snapshot<T>(&self, read: impl FnOnce(&Recorded) -> T) -> T {
        read(
            &self
                .recorded
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Waits until a notification matching `wanted` arrives.
    pub async fn wait_for_notification(
        &self,
        timeout: Duration,
        wanted: impl Fn(&ReceivedNotification) -> bool,
    ) -> anyhow::Result<ReceivedNotification> {
        crate::eventually(timeout, "a matching notification", || async {
            Ok(
                self.snapshot(|r| match r.notifications.iter().find(|n| wanted(n)) {
                    Some(found) => ControlFlow::Break(found.clone()),
                    None => ControlFlow::Continue(format!("{:?}", r.notifications)),
                }),
            )
        })
        .await
    }

    /// Whether the app asked to close notification `id`.
    pub fn was_closed(&self, id: u32) -> bool {
        self.snapshot(|r| r.closed.contains(&id))
    }

    /// Every notification received so far.
    pub fn notifications(&self) -> Vec<ReceivedNotification> {
        self.snapshot(|r| r.notifications.clone())
    }

    /// What a notification server sends when the user clicks a notification's button (or the
    /// notification itself, `action_key` "default"): the `ActionInvoked` signal.
    pub async fn invoke_action(&self, id: u32, action_key: &str) -> anyhow::Result<()> {
        self.connection
            .emit_signal(
                None::<()>,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                &(id, action_key),
            )
            .await
            .context("emitting ActionInvoked")
    }

    /// Waits until a tray item registers with the watcher.
    pub async fn wait_for_tray_item(&self, timeout: Duration) -> anyhow::Result<RegisteredItem> {
        crate::eventually(timeout, "a StatusNotifierItem registration", || async {
            Ok(self.snapshot(|r| match r.items.last() {
                Some(item) => ControlFlow::Break(item.clone()),
                None => ControlFlow::Continue("no registration".into()),
            }))
        })
        .await
    }

    /// Tray items registered so far.
    pub fn tray_items(&self) -> Vec<RegisteredItem> {
        self.snapshot(|r| r.items.clone())
    }

    /// The tray item's exported `com.canonical.dbusmenu` object and its whole layout, read as a
    /// panel reads them.
    async fn tray_menu(
        &self,
        item: &RegisteredItem,
    ) -> anyhow::Result<(zbus::Proxy<'static>, MenuNode)> {
        let (destination, _) = item.address();
        let menu_path: zbus::zvariant::OwnedObjectPath =
            self.tray_item_property(item, "Menu").await?.try_into()?;
        let menu = zbus::Proxy::new(
            &self.connection,
            destination,
            menu_path,
            "com.canonical.dbusmenu",
        )
        .await?;
        let (_revision, layout): (u32, MenuNode) = menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .context("reading the tray menu layout")?;
        Ok((menu, layout))
    }

    /// Clicks the tray menu item with this label, through the item's exported
    /// `com.canonical.dbusmenu` interface (what a panel does when the user clicks it).
    pub async fn click_tray_menu(&self, item: &RegisteredItem, label: &str) -> anyhow::Result<()> {
        let (menu, layout) = self.tray_menu(item).await?;
        let id = find_menu_item(&layout, label)?
            .with_context(|| format!("no tray menu item labelled {label:?}"))?;
        let data = zbus::zvariant::Value::from("");
        menu.call::<_, _, ()>("Event", &(id, "clicked", data, 0u32))
            .await
            .context("clicking the tray menu item")?;
        Ok(())
    }

    /// The labels of the tray menu's items, in order (depth first, mnemonics removed).
    pub async fn tray_menu_labels(&self, item: &RegisteredItem) -> anyhow::Result<Vec<String>> {
        let (_, layout) = self.tray_menu(item).await?;
        let mut labels = Vec::new();
        collect_labels(&layout, &mut labels)?;
        Ok(labels)
    }

    /// Reads a string property of a registered tray item, over the bus.
    pub async fn tray_item_property(
        &self,
        item: &RegisteredItem,
        name: &str,
    ) -> anyhow::Result<OwnedValue> {
        let (destination, path) = item.address();
        let proxy = zbus::Proxy::new(
            &self.connection,
            destination,
            path,
            "org.kde.StatusNotifierItem",
        )
        .await?;
        Ok(proxy.get_property::<OwnedValue>(name).await?)
    }
}

/// One node of a dbusmenu layout: `(id, properties, children)`, children as variants.
type MenuNode = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

fn collect_labels(node: &MenuNode, labels: &mut Vec<String>) -> anyhow::Result<()> {
    let (_, properties, children) = node;
    if let Some(value) = properties.get("label") {
        let text: String = value.try_clone()?.try_into()?;
        labels.push(text.replace('_', ""));
    }
    for child in children {
        let child: MenuNode = child.try_clone()?.try_into()?;
        collect_labels(&child, labels)?;
    }
    Ok(())
}

fn find_menu_item(node: &MenuNode, label: &str) -> anyhow::Result<Option<i32>> {
    let (id, properties, children) = node;
    if let Some(value) = properties.get("label") {
        let text: String = value.try_clone()?.try_into()?;
        // Labels may carry a mnemonic underscore.
        if text.replace('_', "") == label {
            return Ok(Some(*id));
        }
    }
    for child in children {
        let child: MenuNode = child.try_clone()?.try_into()?;
        if let Some(found) = find_menu_item(&child, label)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
