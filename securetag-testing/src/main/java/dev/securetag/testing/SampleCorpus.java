package dev.securetag.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the small bundled sample corpus used by the examples and tests: an ISO/IEC 27001-style policy with
 * Annex A control tables and definitions, a NIST SP 800-53-style two-column control catalog, a Spanish PCI DSS-style
 * excerpt, and a one-page scanned (image-only) procedure. The documents are synthetic paraphrases written for this
 * project, not copies of the standards. Output is deterministic: the same bytes on every run.
 */
public final class SampleCorpus {

  /** The file names written by {@link #writeTo(Path)}, in order. */
  public static final List<String> FILES = List.of(
      "iso27001-policy.pdf", "nist-800-53-catalog.pdf", "pci-dss-es.pdf", "scanned-incident-procedure.pdf");

  private static final long DOCUMENT_ID = 27001L;

  private SampleCorpus() {}

  /** Writes the four sample PDFs into {@code dir} (created if needed) and returns their paths. */
  public static List<Path> writeTo(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    Path iso = dir.resolve(FILES.get(0));
    Path nist = dir.resolve(FILES.get(1));
    Path pci = dir.resolve(FILES.get(2));
    Path scan = dir.resolve(FILES.get(3));
    writeIso(iso);
    writeNist(nist);
    writePci(pci);
    writeScan(scan);
    return List.of(iso, nist, pci, scan);
  }

  private static final float[] CONTROL_WIDTHS = {0.11f, 0.25f, 0.48f, 0.16f};

  private static void writeIso(Path target) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.document().setDocumentId(DOCUMENT_ID);
      w.header("Contoso Ltd - Information Security Policy (ISMS-POL-001) - Internal");
      w.footer("Page %d of %d");
      w.heading("Information Security Policy", 18, 0);
      w.paragraph("Document owner: Chief Information Security Officer. Version 3.1, approved by the Board of "
          + "Directors. This policy establishes the information security management system (ISMS) of Contoso Ltd "
          + "in accordance with ISO/IEC 27001:2022 and selects the Annex A controls listed below.");
      w.heading("1 Purpose", 14, 0);
      w.paragraph("The purpose of this policy is to protect the confidentiality, integrity and availability of "
          + "information owned or processed by Contoso Ltd, to meet legal, regulatory and contractual requirements, "
          + "and to set the direction for continual improvement of the ISMS.");
      w.heading("2 Scope", 14, 0);
      w.paragraph("This policy applies to all employees, contractors and third parties who access Contoso "
          + "information or information systems, and to all locations, networks, cloud services and devices used "
          + "to store or process that information.");
      w.heading("3 Definitions", 14, 0);
      w.paragraph("Asset means any item that has value to the organization, including information, software, "
          + "hardware, services, people and reputation.");
      w.paragraph("Information security means the preservation of confidentiality, integrity and availability of "
          + "information.");
      w.paragraph("Risk owner means the person or entity with the accountability and authority to manage a risk.");
      w.paragraph("Statement of Applicability means the document that lists the Annex A controls that are "
          + "necessary for the ISMS, the justification for their inclusion and whether they are implemented.");
      w.heading("4 Policy statements", 14, 0);
      w.paragraph("The organization shall:");
      w.bullet("a)", "determine the scope of the ISMS and document it;");
      w.bullet("b)", "assess information security risks at planned intervals and when significant changes occur;");
      w.bullet("c)", "select controls from Annex A to treat risks and record them in the Statement of "
          + "Applicability;");
      w.bullet("d)", "review this policy at least annually and after major incidents.");
      w.heading("A.5 Organizational controls", 14, 0);
      w.paragraph("The following organizational controls are applicable. Each control is implemented by the "
          + "owner shown and evidence of operation is retained for internal audit.");
      w.table(List.of(
          List.of("Control", "Title", "Requirement", "Owner"),
          List.of("A.5.1", "Policies for information security", "Information security policy and topic-specific "
              + "policies shall be defined, approved by management, published, communicated to relevant personnel "
              + "and reviewed at planned intervals.", "CISO"),
          List.of("A.5.2", "Information security roles and responsibilities", "Information security roles and "
              + "responsibilities shall be defined and allocated according to the organization needs.", "CISO"),
          List.of("A.5.9", "Inventory of information and other associated assets", "An inventory of information and "
              + "other associated assets, including owners, shall be developed and maintained.", "IT Operations"),
          List.of("A.5.15", "Access control", "Rules to control physical and logical access to information and "
              + "other associated assets shall be established and implemented based on business and security "
              + "requirements.", "IT Security"),
          List.of("A.5.24", "Information security incident management planning and preparation", "The organization "
              + "shall plan and prepare for managing information security incidents by defining processes, roles "
              + "and responsibilities.", "SOC Manager"),
          List.of("A.5.30", "ICT readiness for business continuity", "ICT readiness shall be planned, implemented, "
              + "maintained and tested based on business continuity objectives.", "IT Operations")),
          CONTROL_WIDTHS, true);
      w.heading("A.8 Technological controls", 14, 0);
      w.paragraph("Technological controls protect endpoints, identities, networks and data. Exceptions require a "
          + "documented risk acceptance signed by the risk owner.");
      w.table(List.of(
          List.of("Control", "Title", "Requirement", "Owner"),
          List.of("A.8.2", "Privileged access rights", "The allocation and use of privileged access rights shall be "
              + "restricted and managed.", "IAM Team"),
          List.of("A.8.5", "Secure authentication", "Secure authentication technologies and procedures shall be "
              + "implemented based on information access restrictions and the topic-specific policy on access "
              + "control.", "IAM Team"),
          List.of("A.8.7", "Protection against malware", "Protection against malware shall be implemented and "
              + "supported by appropriate user awareness.", "Endpoint Team"),
          List.of("A.8.13", "Information backup", "Backup copies of information, software and systems shall be "
              + "maintained and regularly tested in accordance with the agreed topic-specific policy on backup.",
              "IT Operations"),
          List.of("A.8.15", "Logging", "Logs that record activities, exceptions, faults and other relevant events "
              + "shall be produced, stored, protected and analysed.", "SOC Manager"),
          List.of("A.8.24", "Use of cryptography", "Rules for the effective use of cryptography, including "
              + "cryptographic key management, shall be defined and implemented.", "Crypto Board")),
          CONTROL_WIDTHS, true);
      w.heading("5 Compliance", 14, 0);
      w.paragraph("Compliance with this policy is measured through internal audits, management reviews and "
          + "continuous monitoring. Violations may result in disciplinary action up to and including termination "
          + "of employment or contract.");
      w.save(target);
    }
  }

  private static void writeNist(Path target) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.document().setDocumentId(DOCUMENT_ID + 1);
      w.header("Security and Privacy Controls Catalog (SP 800-53 style excerpt)");
      w.footer("Page %d of %d");
      w.heading("Security and Privacy Control Catalog", 18, 0);
      w.paragraph("This catalog excerpt describes selected controls from the access control and identification "
          + "and authentication families. Each control has a control statement and a discussion section.");
      w.columns(2);
      w.heading("AC Access Control", 14, 0);
      nistControl(w, "AC-2 Account Management",
          List.of("a. Define and document the types of accounts allowed and specifically prohibited for use within "
              + "the system;",
              "b. Assign account managers;",
              "c. Require approvals by designated personnel for requests to create accounts;",
              "d. Monitor the use of accounts; and",
              "e. Disable accounts within 24 hours when the accounts have expired or are no longer associated with "
              + "a user or individual."),
          "Examples of system account types include individual, shared, group, system, guest, anonymous, emergency, "
              + "developer, temporary and service. Account management includes the identification of authorized "
              + "users and the specification of access privileges.");
      nistControl(w, "AC-3 Access Enforcement",
          List.of("a. Enforce approved authorizations for logical access to information and system resources in "
              + "accordance with applicable access control policies."),
          "Access control policies control access between active entities such as users or processes and passive "
              + "entities such as devices, files and records in organizational systems.");
      nistControl(w, "AC-6 Least Privilege",
          List.of("a. Employ the principle of least privilege, allowing only authorized accesses for users which are "
              + "necessary to accomplish assigned organizational tasks."),
          "Organizations employ least privilege for specific duties and systems. The principle of least privilege "
              + "is also applied to system processes, ensuring that processes have access only to what they need.");
      nistControl(w, "AC-7 Unsuccessful Logon Attempts",
          List.of("a. Enforce a limit of five consecutive invalid logon attempts by a user during a 15 minute period;",
              "b. Automatically lock the account for 30 minutes when the maximum number of unsuccessful attempts is "
              + "exceeded."),
          "The need to limit unsuccessful logon attempts applies regardless of whether the logon occurs via a local "
              + "or network connection.");
      w.heading("IA Identification and Authentication", 14, 0);
      nistControl(w, "IA-2 Identification and Authentication (Organizational Users)",
          List.of("a. Uniquely identify and authenticate organizational users and associate that unique "
              + "identification with processes acting on behalf of those users."),
          "Organizations can satisfy the identification and authentication requirements by complying with the "
              + "requirements in applicable directives. Multi-factor authentication requires the use of two or more "
              + "different factors.");
      nistControl(w, "IA-2(1) Multi-factor Authentication to Privileged Accounts",
          List.of("a. Implement multi-factor authentication for access to privileged accounts."),
          "Multi-factor authentication requires two or more different factors: something you know, something you "
              + "have, or something you are.");
      nistControl(w, "IA-5 Authenticator Management",
          List.of("a. Verify, as part of the initial authenticator distribution, the identity of the individual "
              + "receiving the authenticator;",
              "b. Establish initial authenticator content for any authenticators issued by the organization;",
              "c. Change default authenticators prior to first use."),
          "Authenticators include passwords, cryptographic devices, biometrics, certificates and one-time password "
              + "devices. Default authenticators must be changed before a system is placed into operation.");
      nistControl(w, "IA-11 Re-authentication",
          List.of("a. Require users to re-authenticate when roles, authenticators or credentials change, or after "
              + "a defined period of inactivity."),
          "In addition to the re-authentication requirements associated with device locks, organizations may "
              + "require re-authentication of individuals in certain situations.");
      w.save(target);
    }
  }

  private static void nistControl(PdfLayoutWriter w, String title, List<String> items, String discussion) {
    w.heading(title, 11, 0);
    w.paragraph("Control: The organization shall:");
    for (String item : items) {
      w.bullet(item.substring(0, 2), item.substring(3));
    }
    w.paragraph("Discussion: " + discussion);
  }

  private static void writePci(Path target) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.document().setDocumentId(DOCUMENT_ID + 2);
      w.header("Extracto de requisitos de seguridad de datos de tarjetas (estilo PCI DSS v4.0)");
      w.footer("Página %d de %d");
      w.heading("Requisito 8: Identificar a los usuarios y autenticar el acceso", 16, 0);
      w.paragraph("Dos principios fundamentales para identificar y autenticar a los usuarios son establecer la "
          + "identidad de una persona o proceso en un sistema informático y comprobar que el usuario es quien dice "
          + "ser. Un factor de autenticación es algo que usted sabe, algo que usted tiene o algo que usted es.");
      w.heading("Requisito 8.2 Gestión de identificadores de usuario", 13, 0);
      w.heading("Requisito 8.2.1 Identificador único", 11, 0);
      w.paragraph("A todos los usuarios se les asigna un identificador único antes de permitirles el acceso a los "
          + "componentes del sistema o a los datos de titulares de tarjetas.");
      w.heading("Requisito 8.2.6 Cuentas inactivas", 11, 0);
      w.paragraph("Las cuentas de usuario inactivas se eliminan o deshabilitan en un plazo de 90 días de "
          + "inactividad.");
      w.heading("Requisito 8.3 Autenticación robusta", 13, 0);
      w.heading("Requisito 8.3.1 Factores de autenticación", 11, 0);
      w.paragraph("Todo acceso de los usuarios a los componentes del sistema se autentica mediante al menos uno de "
          + "los siguientes factores: algo que el usuario sabe, como una contraseña o frase de paso; algo que el "
          + "usuario tiene, como un token o una tarjeta inteligente; o algo que el usuario es, como un elemento "
          + "biométrico.");
      w.heading("Requisito 8.3.6 Complejidad de las contraseñas", 11, 0);
      w.paragraph("Si se utilizan contraseñas o frases de paso como factores de autenticación, deben tener una "
          + "longitud mínima de 12 caracteres y contener caracteres numéricos y alfabéticos.");
      w.heading("Requisito 8.3.9 Cambio de contraseñas", 11, 0);
      w.paragraph("Las contraseñas se cambian al menos una vez cada 90 días cuando son el único factor de "
          + "autenticación del usuario.");
      w.table(List.of(
          List.of("Requisito", "Procedimiento de prueba", "Orientación"),
          List.of("8.3.1", "Examinar la documentación que describe los factores de autenticación utilizados.",
              "Los factores de autenticación, combinados con identificadores únicos, protegen las cuentas."),
          List.of("8.3.6", "Examinar los ajustes de configuración para verificar la longitud y la complejidad "
              + "mínimas de las contraseñas.", "Las contraseñas fuertes son una primera línea de defensa."),
          List.of("8.4.2", "Observar los procesos de inicio de sesión para verificar que se exige la autenticación "
              + "multifactor en todo acceso al entorno de datos de titulares de tarjetas.",
              "La autenticación multifactor reduce el riesgo de que credenciales robadas permitan el acceso.")),
          new float[] {0.14f, 0.46f, 0.40f}, true);
      w.heading("Requisito 8.4 Autenticación multifactor", 13, 0);
      w.heading("Requisito 8.4.2 Acceso al entorno de datos", 11, 0);
      w.paragraph("Se implementa la autenticación multifactor para todo acceso al entorno de datos de titulares de "
          + "tarjetas, incluido el acceso del personal administrativo y el acceso remoto.");
      w.save(target);
    }
  }

  /** The text printed on the scanned page, exposed so that OCR accuracy can be measured. */
  public static final List<String> SCANNED_TEXT = List.of(
      "Incident Response Procedure",
      "1 Detection and reporting",
      "All employees shall report suspected information security incidents to the Security Operations Center "
          + "within one hour of discovery, by telephone or through the incident portal.",
      "2 Containment",
      "The incident manager isolates affected systems from the network, preserves evidence and records every "
          + "action in the incident log.",
      "3 Recovery and lessons learned",
      "Systems are restored from verified backups. A post-incident review is held within ten working days and "
          + "its findings are used to improve controls.");

  private static void writeScan(Path target) {
    try (PdfLayoutWriter w = PdfLayoutWriter.standard14()) {
      w.document().setDocumentId(DOCUMENT_ID + 3);
      w.imagePage(PdfLayoutWriter.renderScan(SCANNED_TEXT, 12f), List.of());
      w.save(target);
    }
  }
}
