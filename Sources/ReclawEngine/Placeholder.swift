// ReclawEngine
