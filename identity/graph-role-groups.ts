import type { GraphGateway } from '../graph/graph-gateway';
import type { GroupMembersReader } from './role-directory';

/** Reads role groups' members through the Graph gateway. */
export class GraphGroupMembersReader implements GroupMembersReader {
  constructor(private readonly gateway: Pick<GraphGateway, 'findSecurityGroups' | 'listGroupMemberIds'>) {}

  async listGroupMemberIdsByName(displayName: string): Promise<string[]> {
    const [found] = await this.gateway.findSecurityGroups([displayName]);
    if (!found || !found.ok) throw found?.ok === false ? found.error : new Error(`Graph gave no answer for the group "${displayName}".`);
    if (found.value.length === 0) {
      throw new Error(`No Entra security group is called "${displayName}". Create it, or correct the ROLE_GROUP_* setting that names it.`);
    }
    if (found.value.length > 1) {
      throw new Error(`${found.value.length} security groups are called "${displayName}"; rename all but one so roles cannot be confused.`);
    }
    const [members] = await this.gateway.listGroupMemberIds([found.value[0]!.id]);
    if (!members || !members.ok) throw members?.ok === false ? members.error : new Error(`Graph gave no members for "${displayName}".`);
    return members.value;
  }
}
