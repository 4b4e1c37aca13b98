// ReclawDaemon
