//! Size presets: small, medium and large mapped to each provider's current types. A preset
//! lists candidates best first and resolves against the live catalogue, so a type the provider
//! retires falls through to the next instead of breaking workspace creation.

use serde::Serialize;

use crate::error::ProviderKind;
use crate::model::{Arch, Size};

/// A workspace size a user picks without knowing provider type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizePreset {
    /// 2 vCPU, 4–8 GB: one agent on a small repository.
    Small,
    /// 4 vCPU, 8–16 GB: the default; builds and tests of most projects.
    Medium,
    /// 8 vCPU, 16–32 GB: large builds, several agents.
    Large,
}

impl SizePreset {
    /// Every preset, smallest first.
    pub const ALL: [SizePreset; 3] = [SizePreset::Small, SizePreset::Medium, SizePreset::Large];

    /// `small`, `medium`, `large`.
    pub fn as_str(self) -> &'static str {
        match self {
            SizePreset::Small => "small",
            SizePreset::Medium => "medium",
            SizePreset::Large => "large",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The provider's type names for this preset and architecture, best first.
    pub fn candidates(self, provider: ProviderKind, arch: Arch) -> &'static [&'static str] {
        use SizePreset::{Large, Medium, Small};
        match (provider, arch, self) {
            // Cost-optimised x86 first, then the AMD shared line, then the retiring cx*2.
            (ProviderKind::Hetzner, Arch::X86_64, Small) => &["cx23", "cpx22", "cx22"],
            (ProviderKind::Hetzner, Arch::X86_64, Medium) => &["cx33", "cpx32", "cx32"],
            (ProviderKind::Hetzner, Arch::X86_64, Large) => &["cx43", "cpx42", "cx42"],
            (ProviderKind::Hetzner, Arch::Arm64, Small) => &["cax11"],
            (ProviderKind::Hetzner, Arch::Arm64, Medium) => &["cax21"],
            (ProviderKind::Hetzner, Arch::Arm64, Large) => &["cax31"],
            (ProviderKind::Scaleway, Arch::X86_64, Small) => &["DEV1-M", "PLAY2-MICRO"],
            (ProviderKind::Scaleway, Arch::X86_64, Medium) => &["DEV1-L", "PLAY2-SMALL", "PRO2-XS"],
            (ProviderKind::Scaleway, Arch::X86_64, Large) => &["PRO2-S", "DEV1-XL", "PLAY2-MEDIUM"],
            (ProviderKind::Scaleway, Arch::Arm64, Small) => &["COPARM1-2C-8G"],
            (ProviderKind::Scaleway, Arch::Arm64, Medium) => &["COPARM1-4C-16G"],
            (ProviderKind::Scaleway, Arch::Arm64, Large) => &["COPARM1-8C-32G"],
        }
    }

    /// The first candidate in `sizes` that is current, of `arch`, and sold (and in stock)
    /// in `location`.
    pub fn resolve<'a>(
        self,
        provider: ProviderKind,
        arch: Arch,
        location: &str,
        sizes: &'a [Size],
    ) -> Option<&'a Size> {
        self.candidates(provider, arch).iter().find_map(|name| {
            sizes.iter().find(|s| {
                s.id == *name
                    && s.arch == arch
                    && !s.deprecated
                    && s.price_in(location).is_some_and(|p| p.available)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Price;

    fn size(id: &str, arch: Arch, location: &str, deprecated: bool, available: bool) -> Size {
        Size {
            id: id.into(),
            vcpus: 2,
            memory_mib: 4096,
            disk_gb: 40,
            arch,
            currency: "EUR".into(),
            prices: vec![Price {
                location: location.into(),
                hourly: 0.01,
                monthly: 5.0,
                available,
            }],
            deprecated,
        }
    }

    #[test]
    fn falls_through_retired_unsold_and_out_of_stock_types() {
        let sizes = vec![
            size("cx23", Arch::X86_64, "fsn1", true, true),
            size("cpx22", Arch::X86_64, "hel1", false, true),
            size("cx22", Arch::X86_64, "fsn1", false, true),
        ];
        let p = ProviderKind::Hetzner;
        let picked = SizePreset::Small.resolve(p, Arch::X86_64, "fsn1", &sizes);
        assert_eq!(picked.map(|s| s.id.as_str()), Some("cx22"));
        assert!(
            SizePreset::Small
                .resolve(p, Arch::Arm64, "fsn1", &sizes)
                .is_none()
        );
        let sizes = vec![size("DEV1-M", Arch::X86_64, "fr-par-1", false, false)];
        assert!(
            SizePreset::Small
                .resolve(ProviderKind::Scaleway, Arch::X86_64, "fr-par-1", &sizes)
                .is_none()
        );
    }

    #[test]
    fn every_combination_has_candidates() {
        for p in ProviderKind::ALL {
            for a in [Arch::X86_64, Arch::Arm64] {
                for preset in SizePreset::ALL {
                    assert!(!preset.candidates(p, a).is_empty());
                    assert_eq!(SizePreset::parse(preset.as_str()), Some(preset));
                }
            }
        }
    }
}
