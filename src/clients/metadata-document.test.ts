import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isMetadataDocumentUrl } from './metadata-document.js'

describe('client ID metadata documents', () => {
  it('takes only https URLs with a path as metadata document client_ids', () => {
    assert.equal(isMetadataDocumentUrl('https://agent.example.com/client.json'), true)
    for (const id of [
      'http://agent.example.com/client.json',
      'https://agent.example.com/',
      'https://agent.example.com',
      'https://agent.example.com/c#x',
      'https://u:p@agent.example.com/c',
      'b7a7c3e2-uuid',
    ]) {
      assert.equal(isMetadataDocumentUrl(id), false, id)
    }
  })
})
