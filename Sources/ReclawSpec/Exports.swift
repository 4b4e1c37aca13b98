/// Spec values use the shared JSON value type; re-export it for users of this module.
@_exported import ReclawJSON
