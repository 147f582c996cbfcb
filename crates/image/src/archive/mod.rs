//! Image archives: `docker save` / `docker load` tars (docker-archive with
//! `manifest.json`, optionally carrying an OCI layout as Docker 25+ writes)
//! and plain OCI image layouts.

pub mod load;
pub mod oci;
pub mod save;
pub mod stage;
