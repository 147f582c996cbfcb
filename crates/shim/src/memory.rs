//! Keeping the shim's heap small: its memory is paid once per container, so
//! the allocator is told to give freed memory back promptly instead of
//! keeping it for reuse (glibc's defaults favour speed over footprint).

/// Fixed (not adaptive) mmap and trim thresholds: big short-lived buffers
/// (a lagging client's queue) are unmapped when freed, and the heap's free
/// top is returned to the kernel above 64 KiB.
pub fn tune_allocator() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only adjusts allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 * 1024);
    }
}

/// Gives back what setup used and the loop will not: free heap pages
/// (bundle parsing allocates far more than the loop ever will) and the
/// mapped pages of setup code.
pub fn release() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases memory the allocator does not use.
    unsafe {
        libc::malloc_trim(0);
    }
    drop_code_pages();
}

/// Unmaps the shim's own machine code from its page tables. Setup (bundle
/// parsing, the runtime's `create`) runs far more code than the loop; its
/// pages stay counted in the shim's RSS and PSS until unmapped. The kernel
/// maps back, from the page cache, whatever the loop executes next. Only the
/// executable mapping is touched: it is never written, so nothing is lost.
fn drop_code_pages() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let here = drop_code_pages as *const () as usize;
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        if perms == "r-xp" && (start..end).contains(&here) {
            // SAFETY: the range is a whole, read-only, file-backed mapping;
            // MADV_DONTNEED only drops page table entries, refilled on access.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
            return;
        }
    }
}
