import { DefaultAzureCredential } from '@azure/identity';
import type { FeatureContext } from './feature';
import { AttachmentStore } from '../records/attachment-store';

/** Evidence attachments' store: Azure Blob through the connection string, or the endpoint with managed identity. */
export function attachmentStoreFor(context: Pick<FeatureContext, 'config'>): AttachmentStore | undefined {
  const blob = context.config.blob;
  if (blob?.connectionString) return new AttachmentStore({ connectionString: blob.connectionString });
  if (blob?.endpoint) return new AttachmentStore({ endpoint: blob.endpoint, credential: new DefaultAzureCredential() });
  return undefined;
}
