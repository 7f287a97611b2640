//! The trace's hash maps and sets: foldhash instead of SipHash. Their keys are names and uids
//! from the user's own snapshot, hashed a few million times over a big dump (SipHash was the
//! trace's hottest function there); nothing iterates them into output, so order never shows.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
