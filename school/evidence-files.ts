/**
 * Evidence files are accepted by what they contain, never by their name: an image (PNG, JPEG, GIF, WebP)
 * or a PDF, recognised from the file's first bytes ("magic numbers").
 */
export interface EvidenceType {
  contentType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'application/pdf';
  extension: string;
}

/** Every accepted type, for checking what a browser says a file is. */
export const EVIDENCE_TYPES: readonly EvidenceType[] = [
  { contentType: 'image/png', extension: 'png' },
  { contentType: 'image/jpeg', extension: 'jpg' },
  { contentType: 'image/gif', extension: 'gif' },
  { contentType: 'image/webp', extension: 'webp' },
  { contentType: 'application/pdf', extension: 'pdf' },
];

const startsWith = (data: Uint8Array, bytes: readonly number[], offset = 0): boolean => bytes.every((b, i) => data[offset + i] === b);
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** The evidence type of a file from its first 16 bytes, or undefined when it is not an accepted type. */
export function detectEvidenceType(head: Uint8Array): EvidenceType | undefined {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { contentType: 'image/png', extension: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { contentType: 'image/jpeg', extension: 'jpg' };
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return { contentType: 'image/gif', extension: 'gif' };
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return { contentType: 'image/webp', extension: 'webp' };
  if (startsWith(head, ascii('%PDF-'))) return { contentType: 'application/pdf', extension: 'pdf' };
  return undefined;
}

/** A file name safe to show and to offer as a download: no path, no control characters, bounded, with the detected extension. */
export function safeFileName(name: string, type: EvidenceType): string {
  const printable = [...name].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  const base = printable.split(/[\\/]/).pop()!.replace(/["<>|:*?]/g, '').trim().slice(0, 100) || 'evidence';
  const stem = base.replace(/\.[A-Za-z0-9]{1,5}$/, '') || 'evidence';
  return `${stem}.${type.extension}`;
}
