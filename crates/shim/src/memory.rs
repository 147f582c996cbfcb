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

/// Returns free heap pages to the kernel (after setup, whose parsing and
/// spec handling allocate far more than the loop ever will).
pub fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases memory the allocator does not use.
    unsafe {
        libc::malloc_trim(0);
    }
}
