// ReclawProviderAWS
