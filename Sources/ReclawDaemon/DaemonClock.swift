import ReclawTime

/// The daemon's name for its clock: the one `TimeSource` `reclaw run` gives every service.
public typealias DaemonClock = TimeSource
