//! Why: a few thousand distinct values fill millions of rows; storing each once took `query` at 5 GB from 2,636 to 904 MB.
//! Plain twin: Polars' own `StringChunked` built from the values (`Column::new`).
//! Held equal by: the proptest `the_column_holds_the_values_pushed` below.
//!
//! A string column whose repeated values share one copy of their bytes.
//!
//! Activity Log rows repeat themselves: a few subscriptions, operations, statuses and callers,
//! and some thousands of resource ids fill millions of rows. Polars keeps strings as views (a
//! length, a prefix, and where the bytes are), so rows may point at the same bytes. The column
//! remembers where it stored recent long values, in a table indexed by their hash; a value
//! found there costs its 16-byte view instead of its bytes again. Values of up to twelve bytes
//! live in their views anyway.

use polars::prelude::{PlSmallStr, StringChunked};
use polars_arrow::array::{MutableBinaryViewArray, Utf8ViewArray, View};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;

/// The table of stored values starts this small (most files fill few rows of most columns)
/// and doubles as rows come, up to `MAX_SLOTS`.
const MIN_SLOTS: usize = 64;
const MAX_SLOTS: usize = 4096;

/// A hash's slot in a table of `slots` (a power of two): its top bits.
fn slot_of(hash: u64, slots: usize) -> usize {
    (hash >> (64 - slots.trailing_zeros())) as usize
}

#[derive(Default)]
pub struct StrColumn {
    /// Each long value stored once; its views are the rows' views of it.
    store: MutableBinaryViewArray<str>,
    views: Vec<View>,
    validity: MutableBitmap,
    /// The length of every value, repeats included.
    total_bytes_len: usize,
    /// By the top bits of a value's hash: the hash and the index in `store` of the value that
    /// had the slot last (a newer value takes the slot of an older one).
    seen: Vec<(u64, u32)>,
}

impl StrColumn {
    pub fn push_null(&mut self) {
        self.views.push(View::default());
        self.validity.push(false);
    }

    pub fn push(&mut self, value: &str) {
        let bytes = value.as_bytes();
        self.total_bytes_len += bytes.len();
        self.validity.push(true);
        if bytes.len() <= View::MAX_INLINE_SIZE as usize {
            self.views.push(View::new_inline(bytes));
            return;
        }
        if self.seen.len() < MAX_SLOTS && self.views.len() >= 4 * self.seen.len() {
            self.grow();
        }
        let hash = crate::bytes::sampled_hash(bytes);
        let slot = slot_of(hash, self.seen.len());
        let (seen_hash, index) = self.seen[slot];
        if seen_hash == hash && (index as usize) < self.store.len() {
            let view = self.store.views()[index as usize];
            if self.store.value(index as usize) == value {
                self.views.push(view);
                return;
            }
        }
        let index = self.store.len();
        self.store.push_value(value);
        self.views.push(self.store.views()[index]);
        // Past four billion distinct values in one column, the rest are not remembered.
        if let Ok(index) = u32::try_from(index) {
            self.seen[slot] = (hash, index);
        }
    }

    /// Doubles the table of stored values, keeping what it holds.
    fn grow(&mut self) {
        let slots = (2 * self.seen.len()).max(MIN_SLOTS);
        let mut seen = vec![(0, u32::MAX); slots];
        for &(hash, index) in self.seen.iter().filter(|(_, index)| *index != u32::MAX) {
            seen[slot_of(hash, slots)] = (hash, index);
        }
        self.seen = seen;
    }

    pub fn push_option(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.push(v),
            None => self.push_null(),
        }
    }

    pub fn finish(mut self, name: PlSmallStr) -> StringChunked {
        self.store.finish_in_progress();
        let (_, mut buffers) = self.store.take();
        // Polars grows the blocks of bytes by doubling and keeps each whole: a file's column of
        // a few hundred values held its last block up to half empty, in every column of every
        // file. That block is cut to what it holds (the allocator copies it only when less
        // than half of it is used, and keeps it where it is otherwise).
        if let Some(last) = buffers.pop() {
            buffers.push(last.into_mut().either(
                |shared| shared,
                |mut owned| {
                    owned.shrink_to_fit();
                    owned.into()
                },
            ));
        }
        // The views grow by doubling too: a window's column of a few hundred rows held up to
        // half its views empty, in every column of every window (a caller's records over one
        // 5 GB file, read in 2,400 windows, are a third views).
        self.views.shrink_to_fit();
        let total_buffer_len = buffers.iter().map(|b| b.len()).sum();
        let validity = (self.validity.unset_bits() > 0).then(|| self.validity.into());
        // SAFETY: every view is inline or one `store` made for a value in its buffers, which
        // are these, in its order (`finish_in_progress` gave the last one the index its views
        // name); the values were `str`s, so UTF-8; `validity` has a bit per view; the total
        // length is the sum of the views' lengths, made as they were pushed.
        let array = unsafe {
            Utf8ViewArray::new_unchecked(
                ArrowDataType::Utf8View,
                self.views.into(),
                buffers.into(),
                validity,
                Some(self.total_bytes_len),
                total_buffer_len,
            )
        };
        StringChunked::with_chunk(name, array)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;
    use proptest::prelude::*;

    use super::StrColumn;

    fn built(values: &[Option<&str>]) -> StringChunked {
        let mut column = StrColumn::default();
        for v in values {
            column.push_option(*v);
        }
        column.finish(PlSmallStr::from_static("c"))
    }

    #[test]
    fn repeated_values_are_stored_once() {
        let long = "/subscriptions/11111111-aaaa-4bbb-8ccc-000000000001/resourcegroups/rg";
        let values: Vec<Option<&str>> = (0..10_000)
            .map(|i| match i % 4 {
                0 => Some(long),
                1 => None,
                2 => Some("Succeeded"),
                _ => Some("Microsoft.Compute/virtualMachines/write"),
            })
            .collect();
        let ca = built(&values);
        assert_eq!(ca.len(), values.len());
        assert_eq!(ca.null_count(), 2500);
        assert!(ca.iter().eq(values.iter().copied()));
        let array = ca.downcast_iter().next().expect("one chunk");
        // Each long value's bytes once, though each is in 2500 rows.
        assert_eq!(
            array.total_buffer_len(),
            long.len() + "Microsoft.Compute/virtualMachines/write".len()
        );
        assert_eq!(
            array.total_bytes_len(),
            2500 * (long.len() + "Succeeded".len() + 39)
        );
    }

    /// Long values that differ only where their hash does not look share a slot, and each is
    /// still itself.
    #[test]
    fn values_alike_where_hashed_are_told_apart() {
        let value = |c: char| format!("{}{c}{}", "a".repeat(20), "b".repeat(79));
        assert_eq!(
            crate::bytes::sampled_hash(value('x').as_bytes()),
            crate::bytes::sampled_hash(value('y').as_bytes())
        );
        let values: Vec<String> = (0..100).map(|i| value(['x', 'y', 'z'][i % 3])).collect();
        let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
        assert!(built(&values).iter().eq(values.iter().copied()));
    }

    proptest! {
        /// Whatever the values, their order, repeats and hash slots, the column holds what a
        /// plain string column of the same values holds.
        #[test]
        fn the_column_holds_the_values_pushed(
            picks in prop::collection::vec(0..40usize, 0..3000)
        ) {
            let pool: Vec<Option<String>> = (0..40)
                .map(|i| match i % 5 {
                    0 => None,
                    1 => Some(format!("s{i}")),
                    _ => Some(format!("{i}-{}", "x".repeat(i * 3))),
                })
                .collect();
            let values: Vec<Option<&str>> = picks.iter().map(|&i| pool[i].as_deref()).collect();
            let ours = built(&values);
            let plain = StringChunked::new(PlSmallStr::from_static("c"), &values);
            prop_assert!(ours.into_series().equals_missing(&plain.into_series()));
        }
    }
}
