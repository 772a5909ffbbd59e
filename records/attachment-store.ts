import { createHash } from 'node:crypto';
import { BlobServiceClient, RestError, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { StorageUnavailableError } from './tables';

/** What is kept about one evidence attachment (the file itself is the blob). Names are stored URI-encoded. */
export interface StoredAttachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  uploadedAt: string;
  uploadedById: string;
}

/**
 * Upload limits. A file arrives in blocks, each within the tab API's 1 MiB JSON body once base64-encoded;
 * the blocks are staged on a block blob and committed together (Put Block / Put Block List:
 * https://learn.microsoft.com/rest/api/storageservices/put-block-list). Uncommitted blocks of an abandoned
 * upload are discarded by the service after a week.
 */
export const ATTACHMENT_LIMITS = {
  maxBytes: 10 * 1024 * 1024,
  blockBytes: 512 * 1024,
  maxBlocks: 20,
} as const;

/** A block id: base64 of a fixed-length string, as every block id of one blob must be the same length. */
const blockId = (index: number): string => Buffer.from(`block-${String(index).padStart(6, '0')}`).toString('base64');

/**
 * Evidence attachments in Azure Blob Storage: one private container per school (no anonymous access), named
 * from a hash of the school id so the name is always valid and says nothing; blobs are `<reference>/<id>`.
 */
export class AttachmentStore {
  private readonly service: BlobServiceClient;
  private readonly ready = new Map<string, Promise<ContainerClient>>();

  constructor(options: { connectionString?: string | undefined; endpoint?: string | undefined; credential?: TokenCredential }) {
    if (options.connectionString) this.service = BlobServiceClient.fromConnectionString(options.connectionString, { retryOptions: { maxTries: 2 } });
    else if (options.endpoint && options.credential) this.service = new BlobServiceClient(options.endpoint, options.credential, { retryOptions: { maxTries: 2 } });
    else throw new Error('Evidence attachments need BLOB_CONNECTION_STRING or BLOB_ENDPOINT.');
  }

  static containerName(schoolId: string): string {
    return `esafety-${createHash('sha256').update(schoolId).digest('hex').slice(0, 40)}`;
  }

  private container(schoolId: string): Promise<ContainerClient> {
    const name = AttachmentStore.containerName(schoolId);
    let ready = this.ready.get(name);
    if (!ready) {
      const client = this.service.getContainerClient(name);
      // No `access` option: the container is private, readable only with the account's credentials.
      ready = client.createIfNotExists().then(() => client);
      ready.catch(() => this.ready.delete(name));
      this.ready.set(name, ready);
    }
    return ready;
  }

  private async blob(schoolId: string, reference: string, id: string) {
    return (await this.container(schoolId)).getBlockBlobClient(`${reference}/${id}`);
  }

  async stageBlock(schoolId: string, reference: string, id: string, index: number, data: Buffer): Promise<void> {
    await guardBlob('stage attachment block', async () => (await this.blob(schoolId, reference, id)).stageBlock(blockId(index), data, data.length));
  }

  /** The staged (uncommitted) blocks of an upload: how many and their total size. */
  async stagedBlocks(schoolId: string, reference: string, id: string): Promise<{ indexes: number[]; bytes: number }> {
    return guardBlob('read attachment blocks', async () => {
      try {
        const list = await (await this.blob(schoolId, reference, id)).getBlockList('uncommitted');
        const blocks = list.uncommittedBlocks ?? [];
        const indexes = blocks.map((b) => Number(/(\d+)$/.exec(Buffer.from(b.name, 'base64').toString())?.[1] ?? -1));
        return { indexes, bytes: blocks.reduce((sum, b) => sum + b.size, 0) };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return { indexes: [], bytes: 0 };
        throw error;
      }
    });
  }

  /** Commits blocks 0..count-1 as the attachment, downloadable only as a file (Content-Disposition: attachment). */
  async commit(schoolId: string, reference: string, id: string, count: number, meta: Omit<StoredAttachment, 'id' | 'size'>): Promise<void> {
    await guardBlob('commit attachment', async () =>
      (await this.blob(schoolId, reference, id)).commitBlockList(
        Array.from({ length: count }, (_, i) => blockId(i)),
        {
          blobHTTPHeaders: { blobContentType: meta.contentType, blobContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(meta.fileName)}` },
          metadata: { filename: encodeURIComponent(meta.fileName), uploadedat: meta.uploadedAt, uploadedby: meta.uploadedById },
          conditions: { ifNoneMatch: '*' },
        },
      ),
    );
  }

  /** The first bytes of a committed attachment (to check its type by content). */
  async head(schoolId: string, reference: string, id: string, bytes: number): Promise<Buffer> {
    return guardBlob('read attachment', async () => (await this.blob(schoolId, reference, id)).downloadToBuffer(0, bytes));
  }

  async listAttachments(schoolId: string, reference: string): Promise<StoredAttachment[]> {
    return guardBlob('list attachments', async () => {
      const container = await this.container(schoolId);
      const found: StoredAttachment[] = [];
      for await (const item of container.listBlobsFlat({ prefix: `${reference}/`, includeMetadata: true })) {
        found.push({
          id: item.name.slice(reference.length + 1),
          fileName: decodeURIComponent(item.metadata?.filename ?? 'attachment'),
          contentType: item.properties.contentType ?? 'application/octet-stream',
          size: item.properties.contentLength ?? 0,
          uploadedAt: item.metadata?.uploadedat ?? '',
          uploadedById: item.metadata?.uploadedby ?? '',
        });
      }
      return found.sort((a, b) => a.uploadedAt.localeCompare(b.uploadedAt));
    });
  }

  async download(schoolId: string, reference: string, id: string): Promise<{ data: Buffer; attachment: StoredAttachment } | undefined> {
    return guardBlob('download attachment', async () => {
      const blob = await this.blob(schoolId, reference, id);
      try {
        const properties = await blob.getProperties();
        const data = await blob.downloadToBuffer();
        return {
          data,
          attachment: {
            id,
            fileName: decodeURIComponent(properties.metadata?.filename ?? 'attachment'),
            contentType: properties.contentType ?? 'application/octet-stream',
            size: data.length,
            uploadedAt: properties.metadata?.uploadedat ?? '',
            uploadedById: properties.metadata?.uploadedby ?? '',
          },
        };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    });
  }

  async deleteAttachment(schoolId: string, reference: string, id: string): Promise<void> {
    await guardBlob('delete attachment', async () => (await this.blob(schoolId, reference, id)).deleteIfExists());
  }

  /** Deletes every attachment of an incident (at the end of its retention); returns how many. */
  async deleteAll(schoolId: string, reference: string): Promise<number> {
    const attachments = await this.listAttachments(schoolId, reference);
    for (const a of attachments) await this.deleteAttachment(schoolId, reference, a.id);
    return attachments.length;
  }
}

/** A Blob service that cannot be reached is an outage (503, "nothing was saved"), like the tables. */
async function guardBlob<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RestError && error.statusCode !== undefined && error.statusCode > 0 && error.statusCode < 500) throw error;
    if (error instanceof RestError || (error as { code?: string }).code === 'ECONNREFUSED') throw new StorageUnavailableError(operation, error);
    throw error;
  }
}
