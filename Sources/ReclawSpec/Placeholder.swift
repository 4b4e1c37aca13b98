// ReclawSpec
