// ReclawAudit
