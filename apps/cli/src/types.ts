/** The shapes of TrueFoundry's /api/svc/v1 (seed 004), as far as the CLI reads them. */
export interface SecretVersion {
  id: string;
  fqn: string;
  version?: number | null;
}

export interface Secret {
  id: string;
  fqn: string;
  name: string;
  secretGroupId: string;
  value?: string | null;
  updatedAt?: string | null;
  secretVersions?: SecretVersion[] | null;
}

export interface SecretGroup {
  id: string;
  fqn: string;
  name: string;
  tenantName?: string;
  integrationId?: string | null;
  associatedSecrets: Secret[];
  createdAt?: string;
  updatedAt?: string;
}

export interface Integration {
  id: string;
  name: string;
  fqn?: string;
  type: string;
}

export interface ProviderAccount {
  id: string;
  name: string;
  fqn?: string;
  provider?: string;
  integrations: Integration[];
}

export interface Whoami {
  subject: string;
  subjectType?: string;
  tenantName?: string;
  tenantAdmin?: boolean;
  teams?: (string | { name: string })[];
}
