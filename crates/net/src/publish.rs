//! Publishing container ports: reserve the host ports (`alloc`), then add
//! the DNAT elements in one `nft` batch; and the reverse.

use std::net::Ipv4Addr;

use crate::ports::PortBinding;
use crate::{alloc, nft, NetError};

/// Publishes `ports` of the container with address `ip`. Returns the
/// bindings with concrete host ports (what `NetworkSettings.Ports` shows).
/// Idempotent for the same container and bindings (a restarted daemon calls
/// it again for running containers with the returned bindings).
pub fn publish(
    container_id: &str,
    ip: Ipv4Addr,
    ports: &[PortBinding],
) -> Result<Vec<PortBinding>, NetError> {
    if ports.is_empty() {
        return Ok(Vec::new());
    }
    let resolved = alloc::reserve(container_id, ports)?;
    if let Err(e) = nft::run(&nft::ports_add(container_id, ip, &resolved)) {
        alloc::release(container_id);
        return Err(e.into());
    }
    Ok(resolved)
}

/// Withdraws what `publish` did for the container: its DNAT elements (given
/// by the resolved `ports` and `ip`, so that this also works after a daemon
/// restart) and its host port reservations. Elements that are gone already
/// are not an error.
pub fn unpublish(container_id: &str, ip: Ipv4Addr, ports: &[PortBinding]) -> Result<(), NetError> {
    alloc::release(container_id);
    if ports.iter().all(|p| p.host_port == 0) {
        return Ok(());
    }
    match nft::run(&nft::ports_remove(container_id, ip, ports)) {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        // An element now maps to another container: remove the others one
        // by one and leave that one alone.
        Err(e) if e.is_exists() => {
            for p in ports {
                let _ = nft::run(&nft::ports_remove(
                    container_id,
                    ip,
                    std::slice::from_ref(p),
                ));
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
