//! Publishing container ports: reserve the host ports (`alloc`), then add
//! the DNAT elements in one netlink batch (`nftnl`, falling back to an `nft`
//! script); and the reverse.

use std::net::Ipv4Addr;

use crate::alloc::AllocError;
use crate::ports::PortBinding;
use crate::{alloc, nft, nftnl, NetError};

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
    let err = match nftnl::add_ports(container_id, ip, &resolved) {
        Ok(()) => return Ok(resolved),
        Err(e) => e,
    };
    if err.errno() == Some(libc::EEXIST) {
        // A key maps to another container that this process has not
        // reserved for (e.g. not yet re-published after a daemon restart).
        alloc::release(container_id);
        return Err(taken_port(container_id, ip, &resolved).into());
    }
    // The slow path tells what is wrong in nft's words.
    match nft::run(&nft::ports_add(container_id, ip, &resolved)) {
        Ok(()) => Ok(resolved),
        Err(e) => {
            alloc::release(container_id);
            Err(e.into())
        }
    }
}

/// Docker's "port is already allocated" for the binding whose DNAT key
/// belongs to another container: probing with the add-then-delete batch
/// changes nothing and fails exactly for such keys.
fn taken_port(container_id: &str, ip: Ipv4Addr, resolved: &[PortBinding]) -> AllocError {
    let taken = resolved
        .iter()
        .find(|b| {
            nftnl::remove_ports(container_id, ip, std::slice::from_ref(b))
                .is_err_and(|e| e.errno() == Some(libc::EEXIST))
        })
        .or(resolved.first());
    AllocError::Allocated {
        ip: taken
            .and_then(|b| b.host_ip)
            .unwrap_or(Ipv4Addr::UNSPECIFIED),
        port: taken.map_or(0, |b| b.host_port),
    }
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
    let err = match nftnl::remove_ports(container_id, ip, ports) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if err.errno() == Some(libc::EEXIST) {
        // An element now maps to another container: remove the others one
        // by one and leave that one alone.
        for p in ports {
            let _ = nftnl::remove_ports(container_id, ip, std::slice::from_ref(p));
        }
        return Ok(());
    }
    // Without the table there is nothing to remove; other failures get
    // nft's own diagnosis.
    match nft::run(&nft::ports_remove(container_id, ip, ports)) {
        Err(e) if !e.is_not_found() => Err(e.into()),
        _ => Ok(()),
    }
}
