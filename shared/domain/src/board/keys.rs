//! The keys sections go by in the snapshot's `data`, as in the seed's `"umum"` / `"gigi"`.
use std::collections::BTreeSet;

/// The key a poly goes by on the board, as in the seed's `"umum"` / `"gigi"`: the name in
/// lower case without a leading "poli", runs of anything but letters and digits as one `_`.
/// "Poli Umum" → `umum`, "Poli Kesehatan Ibu & Anak" → `kesehatan_ibu_anak`, "Gigi" → `gigi`.
/// A name that leaves nothing is `poly_<id>`.
pub fn poly_key(name: &str, id: i64) -> String {
    let lower = name.trim().to_lowercase();
    let rest = match lower.strip_prefix("poli") {
        // Only the word "poli", not the start of "poliklinik".
        Some(r) if r.is_empty() || r.starts_with(|c: char| !c.is_alphanumeric()) => r,
        _ => lower.as_str(),
    };
    let mut key = String::new();
    let mut gap = false;
    for c in rest.chars() {
        if c.is_alphanumeric() {
            if gap && !key.is_empty() {
                key.push('_');
            }
            gap = false;
            key.push(c);
        } else {
            gap = true;
        }
    }
    if key.is_empty() {
        format!("poly_{id}")
    } else {
        key
    }
}

/// Keys for the polies of a clinic, in order; a key taken by an earlier poly gets `_<id>`.
pub fn poly_keys(polies: &[(i64, String)]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    polies
        .iter()
        .map(|(id, name)| {
            let mut k = poly_key(name, *id);
            if !taken.insert(k.clone()) {
                k = format!("{k}_{id}");
                taken.insert(k.clone());
            }
            k
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_keys_follow_the_seed() {
        assert_eq!(poly_key("Poli Umum", 1), "umum");
        assert_eq!(poly_key("poli gigi", 2), "gigi");
        assert_eq!(poly_key("Gigi", 2), "gigi");
        assert_eq!(poly_key("  POLI  Kesehatan Ibu & Anak ", 3), "kesehatan_ibu_anak");
        assert_eq!(poly_key("Poliklinik Mata", 4), "poliklinik_mata");
        assert_eq!(poly_key("Poli", 5), "poly_5");
        assert_eq!(poly_key("Poli-Anak", 6), "anak");
        assert_eq!(poly_key("Poli Gigi 2", 7), "gigi_2");
    }

    #[test]
    fn clashing_keys_take_the_id() {
        let keys = poly_keys(&[(1, "Poli Umum".into()), (2, "Umum".into()), (3, "Poli Gigi".into())]);
        assert_eq!(keys, vec!["umum", "umum_2", "gigi"]);
    }
}
