//! Query strings and page windows, shared by the fakes that list things.

/// A parsed query string; names may repeat (`type=app&type=system`).
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The first value of `name`, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of `name`, repeated parameters and comma-separated lists both split, empty
    /// entries dropped.
    pub(crate) fn list(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// `name` as a whole number: `Ok(None)` when absent, `Err(())` when not a number.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ()> {
        self.get(name)
            .map(|value| value.trim().parse::<u64>().map_err(|_| ()))
            .transpose()
    }
}

/// One page of a list: `page` counts from 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) page: u64,
    pub(crate) per_page: u64,
}

impl Page {
    /// The items of this page, in order.
    pub(crate) fn slice<T>(self, items: Vec<T>) -> Vec<T> {
        let skip =
            usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        items.into_iter().skip(skip).take(take).collect()
    }

    /// The number of the last page; 1 for an empty list.
    pub(crate) fn last_page(self, total: usize) -> u64 {
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        total.div_ceil(self.per_page).max(1)
    }
}
